/**
 * Startup recovery: newest snapshot that validates (older ones as fallback), then every log record
 * after it, in order. A torn tail in the last segment is cut away (it was never reported durable);
 * a damaged record with intact ones after it is damage, not a torn tail (log-damage.ts), and like
 * anything else missing between the snapshot and the end of the log it is an error, because committed
 * transactions would silently disappear — unless the operator asked to cut there (`truncateCorrupt`).
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { DecodeError } from './bytes.js';
import { DurabilityError } from './errors.js';
import { scanFrames } from './frame.js';
import { fsyncDirSync, offsetName } from './fs-util.js';
import { ImageBuilder } from './image-builder.js';
import {
  type HistoryCut,
  intactOffsetsAfter,
  keepCutAside,
  lastOffsetIn,
  midLogDamage,
} from './log-damage.js';
import { schemaMismatch } from './meta-file.js';
import { listSegments, SEGMENT_HEADER_BYTES, type SegmentRef, segmentHeaderProblem } from './segment-file.js';
import {
  listSnapshotOffsets,
  readSnapshotFile,
  SNAPSHOT_EXT,
  type SnapshotContents,
} from './snapshot-file.js';
import { decodeTx, peekTxOffset } from './tx-codec.js';
import type { DatabaseImage } from './types.js';

export interface RecoveryInput {
  readonly dir: string;
  readonly clogDir: string;
  readonly snapDir: string;
  readonly schemaHash: string | undefined;
  readonly warn: (message: string) => void;
  /** Cut the log at damage in its middle instead of refusing to start (the operator's explicit choice). */
  readonly truncateCorrupt?: boolean;
}

export interface Recovery {
  readonly image: DatabaseImage;
  /** Snapshots kept on disk, oldest first (the one used plus older ones). */
  readonly snapshotOffsets: bigint[];
  /** Log segments left on disk, in offset order. */
  readonly segments: SegmentRef[];
  /** The last segment, when appending can continue in it: its path and valid length. */
  readonly resume: { readonly path: string; readonly size: number } | undefined;
  /** Set when `truncateCorrupt` cut committed transactions away. */
  readonly cut?: HistoryCut;
}

interface TailRepair {
  readonly segment: SegmentRef;
  /** Undefined: remove the file (nothing valid in it). */
  readonly validEnd: number | undefined;
}

export function recover(input: RecoveryInput): Recovery {
  const { clogDir, snapDir, warn } = input;
  const notes: string[] = [];

  for (const name of readdirSync(snapDir)) if (name.endsWith('.tmp')) unlinkSync(`${snapDir}/${name}`);

  // ---- newest valid snapshot ----
  const onDisk = listSnapshotOffsets(snapDir);
  const corruptSnapshots: bigint[] = [];
  let base: SnapshotContents | undefined;
  for (const offset of onDisk) {
    const path = `${snapDir}/${offsetName(offset, SNAPSHOT_EXT)}`;
    try {
      base = readSnapshotFile(path, offset);
      break;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const note = `snapshot ${path} is damaged (${e.message})`;
      warn(`${note}; falling back to an older snapshot`);
      notes.push(note);
      corruptSnapshots.push(offset);
    }
  }
  if (
    base?.schemaHash !== undefined &&
    input.schemaHash !== undefined &&
    base.schemaHash !== input.schemaHash
  )
    throw schemaMismatch(input.dir, base.schemaHash, input.schemaHash);
  const baseOffset = base?.image.offset ?? -1n;
  const builder = base ? ImageBuilder.from(base.image) : new ImageBuilder(-1n);

  // ---- log suffix ----
  const segments = listSegments(clogDir);
  let expected = baseOffset + 1n;
  let tail: TailRepair | undefined;
  let cut: HistoryCut | undefined;
  let cutLater: SegmentRef[] = [];
  let kept = segments;
  let lastSegmentEnd: { readonly lastOffset: bigint | undefined; readonly size: number } | undefined;
  for (const [i, segment] of segments.entries()) {
    const isLast = i === segments.length - 1;
    const file = readFileSync(segment.path);
    const headerProblem = segmentHeaderProblem(file, segment.firstOffset);
    if (headerProblem !== undefined) {
      if (isLast && isTornHeader(file)) {
        warn(`log segment ${segment.path} was cut short while being created; removing it`);
        tail = { segment, validEnd: undefined };
        break;
      }
      throw new DurabilityError('corrupt', `log segment ${segment.path}: ${headerProblem}`);
    }
    const scan = scanFrames(file, SEGMENT_HEADER_BYTES);
    let segLast: bigint | undefined;
    for (const frame of scan.frames) {
      const offset = decodeOrCorrupt(() => peekTxOffset(frame.payload), segment.path, frame.at);
      const want = segLast === undefined ? segment.firstOffset : segLast + 1n;
      if (offset !== want)
        throw new DurabilityError(
          'corrupt',
          `log segment ${segment.path} holds offset ${offset} at byte ${frame.at} where ${want} belongs`,
        );
      segLast = offset;
      if (offset <= baseOffset) continue;
      if (offset !== expected) throw missing(expected, offset, segment.path, notes);
      builder.apply(decodeOrCorrupt(() => decodeTx(frame.payload), segment.path, frame.at));
      expected++;
    }
    if (scan.problem !== undefined) {
      const lastGood = segLast ?? segment.firstOffset - 1n;
      const later = segments.slice(i + 1);
      const intactAfter = intactOffsetsAfter(file, scan.validEnd, lastGood).at(-1) ?? lastGood;
      // What the damage loses: intact records behind it here, or (older segment) what the next one lacks.
      const lossEnd = isLast ? intactAfter : (later[0] as SegmentRef).firstOffset - 1n;
      if (lossEnd > lastGood && lossEnd > baseOffset && (isLast || input.truncateCorrupt)) {
        const throughOffset = lastOffsetIn(
          later.map((ref) => ({ ref, file: readFileSync(ref.path) })),
          intactAfter,
        );
        // Committed records after the damage would be lost: refuse, or cut as the operator asked.
        if (!input.truncateCorrupt)
          throw midLogDamage(segment.path, scan.validEnd, scan.problem, lastGood + 1n, throughOffset);
        cut = {
          segment: segment.path,
          atByte: scan.validEnd,
          problem: scan.problem,
          fromOffset: lastGood + 1n,
          throughOffset,
          keptAs: [],
        };
        cutLater = later;
        tail = { segment, validEnd: scan.validEnd };
        lastSegmentEnd = { lastOffset: segLast, size: scan.validEnd };
        kept = segments.slice(0, i + 1);
        break;
      }
      if (isLast) {
        warn(
          `torn tail in log segment ${segment.path} (${scan.problem}); dropping its last ` +
            `${file.length - scan.validEnd} bytes, which were never durable`,
        );
        tail = { segment, validEnd: scan.validEnd };
      } else {
        // Only harmful if a record after the snapshot is lost; the next segment's first offset tells.
        const note = `log segment ${segment.path} is damaged (${scan.problem})`;
        warn(note);
        notes.push(note);
      }
    }
    if (isLast) lastSegmentEnd = { lastOffset: segLast, size: scan.validEnd };
  }
  if (builder.unmatchedDeletes > 0)
    warn(`${builder.unmatchedDeletes} logged deletes matched no row; log and snapshot disagree`);
  const recoveredOffset = expected - 1n;
  // A segment is only created after everything before its first offset was written and fsynced, so
  // the newest segment's name proves how far the log reached, even if its predecessor got damaged.
  const newest = kept.at(-1);
  if (newest && newest.firstOffset - 1n > recoveredOffset)
    throw missing(expected, newest.firstOffset, newest.path, notes);

  // ---- repairs, only once everything above validated ----
  let resume: Recovery['resume'];
  if (cut) {
    cut = { ...cut, keptAs: keepCutAside(cut.segment, cut.atByte, cutLater) };
    warn(
      `--truncate-corrupt: cut log offsets ${cut.fromOffset}..${cut.throughOffset} at byte ${cut.atByte} of ` +
        `${cut.segment} (${cut.problem}); the cut bytes are kept in ${cut.keptAs.join(', ')}`,
    );
  }
  if (tail?.validEnd !== undefined) truncateAndSync(tail.segment.path, tail.validEnd);
  const last = kept.at(-1);
  if (last && tail !== undefined && tail.validEnd === undefined) {
    unlinkSync(last.path);
    kept = kept.slice(0, -1);
  } else if (last && lastSegmentEnd) {
    const continuesLog =
      lastSegmentEnd.lastOffset === undefined
        ? last.firstOffset === recoveredOffset + 1n
        : lastSegmentEnd.lastOffset === recoveredOffset;
    if (continuesLog) resume = { path: last.path, size: lastSegmentEnd.size };
    else if (lastSegmentEnd.lastOffset === undefined) {
      // An empty segment named for an offset that will not come next: holds nothing, would be in the way.
      unlinkSync(last.path);
      kept = kept.slice(0, -1);
    }
  }
  if (kept !== segments) fsyncDirSync(clogDir);
  for (const offset of corruptSnapshots) {
    const name = offsetName(offset, SNAPSHOT_EXT);
    renameSync(`${snapDir}/${name}`, `${snapDir}/${name}.corrupt`);
  }
  if (corruptSnapshots.length > 0) fsyncDirSync(snapDir);

  return {
    image: builder.build(),
    snapshotOffsets: onDisk.filter((o) => o <= baseOffset && !corruptSnapshots.includes(o)).reverse(),
    segments: kept,
    resume,
    ...(cut ? { cut } : {}),
  };
}

/** A header that never got written: shorter than a header, or still zero-filled. */
function isTornHeader(file: Buffer): boolean {
  return file.length < SEGMENT_HEADER_BYTES || file.subarray(0, SEGMENT_HEADER_BYTES).every((b) => b === 0);
}

function decodeOrCorrupt<T>(decode: () => T, path: string, at: number): T {
  try {
    return decode();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    throw new DurabilityError(
      'corrupt',
      `log segment ${path}: record at byte ${at} passed its checksum but ${e.message}`,
      {
        cause: e,
      },
    );
  }
}

function missing(expected: bigint, found: bigint, path: string, notes: readonly string[]): DurabilityError {
  if (found < expected)
    return new DurabilityError(
      'corrupt',
      `log segment ${path} repeats offset ${found} (expected ${expected})`,
    );
  const why = notes.length > 0 ? ` Damage found: ${notes.join('; ')}.` : '';
  return new DurabilityError(
    'log-gap',
    `committed transactions ${expected}..${found - 1n} are missing: the log continues at ${found} in ${path}.${why}`,
  );
}

function truncateAndSync(path: string, size: number): void {
  const fd = openSync(path, 'r+');
  try {
    // ftruncate through the same fd we fsync, so the shorter length is what reaches the disk.
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
