/**
 * Log segments: `clog/<first offset, 20 digits>.log`, a 16-byte header (magic, format version, first
 * offset) followed by framed tx records. The first offset in the header guards against a renamed or
 * misplaced file being replayed at the wrong position.
 */
import { readdirSync } from 'node:fs';
import { offsetName, parseOffsetName } from './fs-util.js';

export const SEGMENT_EXT = '.log';
export const SEGMENT_HEADER_BYTES = 16;
const MAGIC = Buffer.from('DHCLOG', 'latin1');
const SEGMENT_VERSION = 1;

export interface SegmentRef {
  readonly firstOffset: bigint;
  readonly path: string;
}

export function segmentPath(clogDir: string, firstOffset: bigint): string {
  return `${clogDir}/${offsetName(firstOffset, SEGMENT_EXT)}`;
}

/** Segment files in offset order; other names are ignored. */
export function listSegments(clogDir: string): SegmentRef[] {
  const out: SegmentRef[] = [];
  for (const name of readdirSync(clogDir)) {
    const firstOffset = parseOffsetName(name, SEGMENT_EXT);
    if (firstOffset !== undefined) out.push({ firstOffset, path: `${clogDir}/${name}` });
  }
  return out.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
}

export function segmentHeader(firstOffset: bigint): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt16LE(SEGMENT_VERSION, 6);
  b.writeBigUInt64LE(firstOffset, 8);
  return b;
}

/** Why the header is unusable, or undefined when it is a valid header for `firstOffset`. */
export function segmentHeaderProblem(file: Buffer, firstOffset: bigint): string | undefined {
  if (file.length < SEGMENT_HEADER_BYTES) return `header cut short (${file.length} bytes)`;
  if (!file.subarray(0, 6).equals(MAGIC)) return 'not a devhost log segment (bad magic)';
  const version = file.readUInt16LE(6);
  if (version !== SEGMENT_VERSION) return `unsupported segment format version ${version}`;
  const inHeader = file.readBigUInt64LE(8);
  if (inHeader !== firstOffset) return `header says first offset ${inHeader}, file name says ${firstOffset}`;
  return undefined;
}
