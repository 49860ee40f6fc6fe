/**
 * Binary payload of one log record: a committed transaction. Version byte first so a later layout can
 * be told apart; the offset sits at a fixed position so recovery can skip records a snapshot already
 * covers without decoding them.
 */
import { ByteReader, type ByteWriter, DecodeError } from './bytes.js';
import type { DurableTx, SequenceAllocation, TableMutations } from './types.js';

const TX_VERSION = 1;
const OFFSET_AT = 1;

const F_REDUCER = 1;
const F_ARGS = 2;
const F_IDENTITY = 4;
const F_CONNECTION = 8;
const F_SEQUENCES = 16;
const F_KNOWN = F_REDUCER | F_ARGS | F_IDENTITY | F_CONNECTION | F_SEQUENCES;

/** Appends the payload of `tx` to `w` (which may already hold a frame header). */
export function writeTx(w: ByteWriter, tx: DurableTx): void {
  if (tx.callerIdentity !== undefined && tx.callerIdentity < 0n)
    throw new RangeError('callerIdentity must be non-negative');
  if (tx.callerConnectionId !== undefined && tx.callerConnectionId < 0n)
    throw new RangeError('callerConnectionId must be non-negative');
  w.u8(TX_VERSION);
  w.u64(tx.offset);
  w.i64(tx.timestamp);
  const flags =
    (tx.reducer !== undefined ? F_REDUCER : 0) |
    (tx.args !== undefined ? F_ARGS : 0) |
    (tx.callerIdentity !== undefined ? F_IDENTITY : 0) |
    (tx.callerConnectionId !== undefined ? F_CONNECTION : 0) |
    (tx.sequences !== undefined ? F_SEQUENCES : 0);
  w.u8(flags);
  if (tx.reducer !== undefined) w.string(tx.reducer);
  if (tx.args !== undefined) w.bytes(tx.args);
  if (tx.callerIdentity !== undefined) w.bigint(tx.callerIdentity);
  if (tx.callerConnectionId !== undefined) w.bigint(tx.callerConnectionId);
  w.u32(tx.mutations.length);
  for (const m of tx.mutations) {
    w.u32(m.tableId);
    w.u8(m.truncated ? 1 : 0);
    w.u32(m.deletes.length);
    for (const row of m.deletes) w.bytes(row);
    w.u32(m.inserts.length);
    for (const row of m.inserts) w.bytes(row);
  }
  if (tx.sequences !== undefined) writeSequences(w, tx.sequences);
}

export function writeSequences(w: ByteWriter, sequences: readonly SequenceAllocation[]): void {
  w.u32(sequences.length);
  for (const s of sequences) {
    w.u32(s.tableId);
    w.u32(s.colId);
    w.bigint(s.allocated);
  }
}

export function readSequences(r: ByteReader): SequenceAllocation[] {
  const n = r.count(9);
  const out: SequenceAllocation[] = [];
  for (let i = 0; i < n; i++) out.push({ tableId: r.u32(), colId: r.u32(), allocated: r.bigint() });
  return out;
}

/** The tx offset of a payload, read without decoding the rest. */
export function peekTxOffset(payload: Buffer): bigint {
  if (payload.length < OFFSET_AT + 8) throw new DecodeError(`tx payload of ${payload.length} bytes`);
  if (payload[0] !== TX_VERSION) throw new DecodeError(`unknown tx record version ${payload[0]}`);
  return payload.readBigUInt64LE(OFFSET_AT);
}

export function decodeTx(payload: Buffer): DurableTx {
  const r = new ByteReader(payload);
  const version = r.u8();
  if (version !== TX_VERSION) throw new DecodeError(`unknown tx record version ${version}`);
  const offset = r.u64();
  const timestamp = r.i64();
  const flags = r.u8();
  if ((flags & ~F_KNOWN) !== 0) throw new DecodeError(`unknown tx flags ${flags}`);
  const reducer = flags & F_REDUCER ? r.string() : undefined;
  const args = flags & F_ARGS ? r.bytes() : undefined;
  const callerIdentity = flags & F_IDENTITY ? r.bigint() : undefined;
  const callerConnectionId = flags & F_CONNECTION ? r.bigint() : undefined;
  const nMutations = r.count(13);
  const mutations: TableMutations[] = [];
  for (let i = 0; i < nMutations; i++) {
    const tableId = r.u32();
    const truncated = r.u8() === 1;
    const deletes = readRows(r);
    const inserts = readRows(r);
    mutations.push(truncated ? { tableId, inserts, deletes, truncated } : { tableId, inserts, deletes });
  }
  const sequences = flags & F_SEQUENCES ? readSequences(r) : undefined;
  r.end();
  return {
    offset,
    timestamp,
    ...(reducer !== undefined ? { reducer } : {}),
    ...(args !== undefined ? { args } : {}),
    ...(callerIdentity !== undefined ? { callerIdentity } : {}),
    ...(callerConnectionId !== undefined ? { callerConnectionId } : {}),
    mutations,
    ...(sequences !== undefined ? { sequences } : {}),
  };
}

export function readRows(r: ByteReader): Uint8Array[] {
  const n = r.count(4);
  const rows: Uint8Array[] = [];
  for (let i = 0; i < n; i++) rows.push(r.bytes());
  return rows;
}
