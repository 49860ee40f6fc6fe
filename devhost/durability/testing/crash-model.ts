/**
 * Test support: a deterministic workload (tx N is a pure function of N) and an independent model of
 * the expected state, kept deliberately simpler than ImageBuilder so the tests do not grade the
 * implementation against itself.
 */
import type { DatabaseImage, DurableTx, SequenceAllocation, TableMutations } from '../types.js';

const MARKER_TABLE = 9;
const TRUNCATED_TABLE = 3;

function row(offset: number, i: number): Uint8Array {
  // Varying sizes so records straddle page and segment boundaries.
  const pad = ((offset * 2654435761 + i * 40503) >>> 0) % 300;
  const bytes = new Uint8Array(12 + pad);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x524f5721); // 'ROW!'
  view.setUint32(4, offset);
  view.setUint32(8, i);
  for (let k = 0; k < pad; k++) bytes[12 + k] = (offset + i + k) & 0xff;
  return bytes;
}

function marker(offset: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(offset), true);
  return bytes;
}

/**
 * Tx `offset`: one marker row (so every tx leaves a trace), 0-2 rows in table offset%4, a delete of
 * a row inserted 7 txs earlier, a truncate of table 3 every 97 txs, a sequence allocation every 5.
 */
export function workloadTx(offset: bigint): DurableTx {
  const n = Number(offset);
  const mutations: TableMutations[] = [{ tableId: MARKER_TABLE, inserts: [marker(n)], deletes: [] }];
  const table = n % 4;
  const inserts = Array.from({ length: n % 3 }, (_, i) => row(n, i));
  const truncated = table === TRUNCATED_TABLE && n % 97 === 0;
  mutations.push({ tableId: table, inserts, deletes: [], ...(truncated ? { truncated } : {}) });
  // Row 0 of tx n-7 (it exists when (n-7)%3 > 0; (n-7)%4 is never this tx's own table).
  const old = n - 7;
  if (old >= 0 && old % 3 > 0 && old % 4 !== TRUNCATED_TABLE)
    mutations.push({ tableId: old % 4, inserts: [], deletes: [row(old, 0)] });
  const sequences: SequenceAllocation[] =
    n % 5 === 0 ? [{ tableId: 1, colId: 0, allocated: BigInt(n + 1) * 4096n }] : [];
  return {
    offset,
    timestamp: 1_700_000_000_000_000n + offset,
    reducer: 'step',
    args: marker(n),
    callerIdentity: offset * 0x1_0000_0000_0000_0001n,
    mutations,
    ...(sequences.length > 0 ? { sequences } : {}),
  };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Expected state: sets of hex-encoded rows per table, latest allocation per sequence. */
export class SetModel {
  offset = -1n;
  private readonly tables = new Map<number, Map<string, Uint8Array>>();
  private readonly sequences = new Map<string, SequenceAllocation>();

  apply(tx: DurableTx): void {
    if (tx.offset !== this.offset + 1n) throw new Error(`model got ${tx.offset} after ${this.offset}`);
    for (const m of tx.mutations) {
      const rows = this.tables.get(m.tableId) ?? new Map<string, Uint8Array>();
      this.tables.set(m.tableId, rows);
      if (m.truncated) rows.clear();
      for (const r of m.deletes) rows.delete(hex(r));
      for (const r of m.inserts) rows.set(hex(r), r);
    }
    for (const s of tx.sequences ?? []) this.sequences.set(`${s.tableId}:${s.colId}`, s);
    this.offset = tx.offset;
  }

  /** Applies workload txs until the model reaches `offset`. */
  advanceTo(offset: bigint): this {
    while (this.offset < offset) this.apply(workloadTx(this.offset + 1n));
    return this;
  }

  image(): DatabaseImage {
    const tables = new Map<number, Uint8Array[]>();
    for (const [id, rows] of this.tables) tables.set(id, [...rows.values()]);
    return { offset: this.offset, tables, sequences: [...this.sequences.values()] };
  }
}

/** An order-free, printable form of an image for deep equality (empty tables omitted). */
export function comparable(image: DatabaseImage): {
  offset: string;
  tables: Record<string, string[]>;
  sequences: string[];
} {
  const tables: Record<string, string[]> = {};
  for (const [id, rows] of image.tables) if (rows.length > 0) tables[id] = rows.map(hex).sort();
  return {
    offset: image.offset.toString(),
    tables,
    sequences: image.sequences.map((s) => `${s.tableId}:${s.colId}=${s.allocated}`).sort(),
  };
}
