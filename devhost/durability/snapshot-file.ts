/**
 * Snapshot files: `snapshots/<offset, 20 digits>.snap` = magic, version, offset, payload length,
 * payload (schema hash, tables with their rows, sequence allocations), then a CRC32 of everything
 * before it. Written to a tmp name and renamed, so a `.snap` is either whole or damaged on disk.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { parseOffsetName } from './fs-util.js';
import { readRows, readSequences, writeSequences } from './tx-codec.js';
import type { DatabaseImage } from './types.js';

export const SNAPSHOT_EXT = '.snap';
const MAGIC = Buffer.from('DHSNAP', 'latin1');
const SNAPSHOT_VERSION = 1;
const HEADER_BYTES = 24;

export interface SnapshotContents {
  readonly image: DatabaseImage;
  readonly schemaHash: string | undefined;
}

/** The whole file's bytes. */
export function encodeSnapshot(image: DatabaseImage, schemaHash: string | undefined): Buffer {
  let estimate = HEADER_BYTES + 64;
  for (const rows of image.tables.values()) for (const row of rows) estimate += row.length + 4;
  const w = new ByteWriter(estimate + 4096);
  w.raw(MAGIC);
  w.u16(SNAPSHOT_VERSION);
  w.u64(BigInt.asUintN(64, image.offset));
  w.u64(0n); // payload length, patched below
  w.u8(schemaHash === undefined ? 0 : 1);
  if (schemaHash !== undefined) w.string(schemaHash);
  const tableIds = [...image.tables.keys()].sort((a, b) => a - b);
  w.u32(tableIds.length);
  for (const id of tableIds) {
    const rows = image.tables.get(id) ?? [];
    w.u32(id);
    w.u32(rows.length);
    for (const row of rows) w.bytes(row);
  }
  writeSequences(w, image.sequences);
  const payloadLength = w.length - HEADER_BYTES;
  w.u32(0); // CRC placeholder
  const file = w.finish();
  file.writeBigUInt64LE(BigInt(payloadLength), 16);
  file.writeUInt32LE(crc32(file.subarray(0, file.length - 4)), file.length - 4);
  return file;
}

/** Validates everything (size, CRC, offsets) before decoding; throws DecodeError on any mismatch. */
export function decodeSnapshot(file: Buffer, nameOffset: bigint): SnapshotContents {
  if (file.length < HEADER_BYTES + 4) throw new DecodeError(`file of ${file.length} bytes`);
  if (!file.subarray(0, 6).equals(MAGIC)) throw new DecodeError('bad magic');
  const version = file.readUInt16LE(6);
  if (version !== SNAPSHOT_VERSION) throw new DecodeError(`unsupported snapshot version ${version}`);
  const offset = file.readBigInt64LE(8);
  const payloadLength = file.readBigUInt64LE(16);
  if (BigInt(file.length) !== BigInt(HEADER_BYTES + 4) + payloadLength)
    throw new DecodeError(`size ${file.length} does not match payload length ${payloadLength}`);
  const stored = file.readUInt32LE(file.length - 4);
  if (crc32(file.subarray(0, file.length - 4)) !== stored) throw new DecodeError('checksum mismatch');
  if (offset !== nameOffset) throw new DecodeError(`holds offset ${offset}, file name says ${nameOffset}`);
  const r = new ByteReader(file.subarray(HEADER_BYTES, file.length - 4));
  const schemaHash = r.u8() === 1 ? r.string() : undefined;
  const nTables = r.count(8);
  const tables = new Map<number, Uint8Array[]>();
  for (let i = 0; i < nTables; i++) {
    const id = r.u32();
    tables.set(id, readRows(r));
  }
  const sequences = readSequences(r);
  r.end();
  return { image: { offset, tables, sequences }, schemaHash };
}

/** Offsets of the `.snap` files in `snapDir`, newest first. */
export function listSnapshotOffsets(snapDir: string): bigint[] {
  const out: bigint[] = [];
  for (const name of readdirSync(snapDir)) {
    const offset = parseOffsetName(name, SNAPSHOT_EXT);
    if (offset !== undefined) out.push(offset);
  }
  return out.sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
}

export function readSnapshotFile(path: string, offset: bigint): SnapshotContents {
  return decodeSnapshot(readFileSync(path), offset);
}
