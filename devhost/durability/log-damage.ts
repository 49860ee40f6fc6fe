/**
 * Damage in the middle of the commit log, told apart from a torn tail: intact records after a bad
 * one prove it is damage (a torn write leaves nothing intact behind it). Such a log is refused, unless
 * the operator asked to cut it there (`truncateCorrupt`); then the cut bytes and segments are kept
 * beside the log under `.cut` names, and what was cut is reported so the host can tell its clients.
 */
import { copyFileSync, renameSync } from 'node:fs';
import { DurabilityError } from './errors.js';
import { findNextFrame, scanFrames } from './frame.js';
import { SEGMENT_HEADER_BYTES, type SegmentRef } from './segment-file.js';
import type { HistoryCutReport } from './types.js';

/** What `truncateCorrupt` removed from the log (offsets: the damaged record's through the newest intact one after it). */
export type HistoryCut = HistoryCutReport;

/** Offsets can grow by far less than this between neighbouring records; it filters the byte-wise search. */
const MAX_PLAUSIBLE_STEP = 1n << 32n;

/** Offsets of the intact records after the damage at `from`, each found by searching past the previous. */
export function intactOffsetsAfter(file: Buffer, from: number, lastGood: bigint): bigint[] {
  const found: bigint[] = [];
  let pos = from;
  let floor = lastGood;
  for (;;) {
    const frame = findNextFrame(file, pos, (payload) => {
      if (payload.length < 9 || payload[0] !== 1) return false;
      const offset = payload.readBigUInt64LE(1);
      return offset > floor && offset - floor < MAX_PLAUSIBLE_STEP;
    });
    if (!frame) return found;
    const offset = frame.payload.readBigUInt64LE(1);
    found.push(offset);
    floor = offset;
    // Carry on with ordinary scanning from here; search again only where that stops.
    const rest = scanFrames(file, frame.at + 8 + frame.payload.length);
    for (const f of rest.frames) {
      const o = f.payload.length >= 9 ? f.payload.readBigUInt64LE(1) : floor;
      if (o > floor) {
        found.push(o);
        floor = o;
      }
    }
    if (rest.problem === undefined) return found;
    pos = rest.validEnd;
  }
}

/** Newest offset in segments after the cut, as far as their intact records tell. */
export function lastOffsetIn(segments: readonly { file: Buffer; ref: SegmentRef }[], floor: bigint): bigint {
  let last = floor;
  for (const { file, ref } of segments) {
    const scan = scanFrames(file, SEGMENT_HEADER_BYTES);
    const tail = scan.frames.at(-1);
    const o = tail && tail.payload.length >= 9 ? tail.payload.readBigUInt64LE(1) : ref.firstOffset - 1n;
    if (o > last) last = o;
  }
  return last;
}

export function midLogDamage(
  segment: string,
  atByte: number,
  problem: string,
  fromOffset: bigint,
  throughOffset: bigint,
): DurabilityError {
  return new DurabilityError(
    'corrupt',
    `log segment ${segment}: the record at byte ${atByte} (log offset ${fromOffset}) is damaged (${problem}), ` +
      `but committed records up to offset ${throughOffset} follow it: this is damage in the middle of the log, ` +
      'not a torn tail, and starting would lose acknowledged transactions. Restore the data directory from a ' +
      `backup, or start with --truncate-corrupt to cut the log at byte ${atByte} (offsets ${fromOffset}..${throughOffset} ` +
      'are lost; every stream moves to a new epoch so clients rebootstrap).',
  );
}

/** Moves the cut bytes of `segment` and every later segment aside; the caller truncates and fsyncs. */
export function keepCutAside(segment: string, atByte: number, later: readonly SegmentRef[]): string[] {
  const kept: string[] = [];
  const tailCopy = `${segment}.cut-at-${atByte}`;
  copyFileSync(segment, tailCopy);
  kept.push(tailCopy);
  for (const s of later) {
    renameSync(s.path, `${s.path}.cut`);
    kept.push(`${s.path}.cut`);
  }
  return kept;
}
