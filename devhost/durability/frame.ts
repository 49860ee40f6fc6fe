/**
 * Record framing inside a log segment: `u32 payload length | u32 CRC32 | payload`. The CRC covers the
 * length bytes and the payload, so a torn or zero-filled tail never passes as a record.
 */
import { crc32 } from 'node:zlib';
import { ByteWriter } from './bytes.js';
import { writeTx } from './tx-codec.js';
import type { DurableTx } from './types.js';

export const FRAME_HEADER_BYTES = 8;
/** Far above any real transaction; a larger length field is damage, not data. */
const MAX_PAYLOAD_BYTES = 1 << 30;

function frameCrc(frame: Buffer, payloadLength: number): number {
  return crc32(
    frame.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + payloadLength),
    crc32(frame.subarray(0, 4)),
  );
}

/** Encodes `tx` as one framed record (header, payload) in a single buffer. */
export function frameTx(tx: DurableTx): Buffer {
  const w = new ByteWriter(512);
  w.u32(0);
  w.u32(0);
  writeTx(w, tx);
  const frame = w.finish();
  const len = frame.length - FRAME_HEADER_BYTES;
  frame.writeUInt32LE(len, 0);
  frame.writeUInt32LE(frameCrc(frame, len), 4);
  return frame;
}

export interface ScannedFrame {
  /** Byte position of the frame header in the scanned buffer. */
  readonly at: number;
  readonly payload: Buffer;
}

export interface FrameScan {
  readonly frames: ScannedFrame[];
  /** End of the last valid frame: where a torn tail gets cut. */
  readonly validEnd: number;
  /** Why scanning stopped before the end of the buffer. */
  readonly problem?: string;
}

/** Reads consecutive frames from `start`, stopping at the first one that is short or fails its CRC. */
export function scanFrames(buf: Buffer, start: number): FrameScan {
  const frames: ScannedFrame[] = [];
  let pos = start;
  while (pos < buf.length) {
    if (buf.length - pos < FRAME_HEADER_BYTES)
      return { frames, validEnd: pos, problem: `partial frame header at byte ${pos}` };
    const len = buf.readUInt32LE(pos);
    if (len === 0 || len > MAX_PAYLOAD_BYTES)
      return { frames, validEnd: pos, problem: `implausible record length ${len} at byte ${pos}` };
    if (buf.length - pos - FRAME_HEADER_BYTES < len)
      return { frames, validEnd: pos, problem: `record at byte ${pos} cut short` };
    const frame = buf.subarray(pos, pos + FRAME_HEADER_BYTES + len);
    if (frameCrc(frame, len) !== buf.readUInt32LE(pos + 4))
      return { frames, validEnd: pos, problem: `checksum mismatch in record at byte ${pos}` };
    frames.push({ at: pos, payload: frame.subarray(FRAME_HEADER_BYTES) });
    pos += FRAME_HEADER_BYTES + len;
  }
  return { frames, validEnd: pos };
}

/**
 * The next intact frame after `from` whose payload `plausible` accepts, searching byte by byte: a
 * torn write leaves nothing intact behind it, so a frame found here proves the damage at `from` sits
 * in the middle of the log. `plausible` is a cheap filter (the tx offset) run before the checksum.
 */
export function findNextFrame(
  buf: Buffer,
  from: number,
  plausible: (payload: Buffer) => boolean,
): ScannedFrame | undefined {
  for (let pos = from + 1; pos + FRAME_HEADER_BYTES < buf.length; pos++) {
    const len = buf.readUInt32LE(pos);
    if (len === 0 || len > MAX_PAYLOAD_BYTES || buf.length - pos - FRAME_HEADER_BYTES < len) continue;
    const frame = buf.subarray(pos, pos + FRAME_HEADER_BYTES + len);
    if (!plausible(frame.subarray(FRAME_HEADER_BYTES))) continue;
    if (frameCrc(frame, len) === buf.readUInt32LE(pos + 4))
      return { at: pos, payload: frame.subarray(FRAME_HEADER_BYTES) };
  }
  return undefined;
}
