/**
 * Replays transactions onto an image the way the datastore applies them: rows are sets, deletes match
 * by byte equality, a truncate empties the table first, and the newest allocation per sequence wins.
 */
import type { DatabaseImage, DurableTx, SequenceAllocation } from './types.js';

function rowKey(row: Uint8Array): string {
  return Buffer.from(row.buffer, row.byteOffset, row.byteLength).toString('latin1');
}

export class ImageBuilder {
  private readonly tables = new Map<number, Map<string, Uint8Array>>();
  private readonly sequences = new Map<string, SequenceAllocation>();
  /** Deletes that matched no row: log and snapshot disagree, worth a warning. */
  unmatchedDeletes = 0;

  constructor(private offset: bigint) {}

  static from(image: DatabaseImage): ImageBuilder {
    const b = new ImageBuilder(image.offset);
    for (const [id, rows] of image.tables) {
      const set = new Map<string, Uint8Array>();
      for (const row of rows) set.set(rowKey(row), row);
      b.tables.set(id, set);
    }
    for (const s of image.sequences) b.sequences.set(`${s.tableId}:${s.colId}`, s);
    return b;
  }

  apply(tx: DurableTx): void {
    for (const m of tx.mutations) {
      let set = this.tables.get(m.tableId);
      if (!set) {
        set = new Map();
        this.tables.set(m.tableId, set);
      }
      if (m.truncated) set.clear();
      for (const row of m.deletes) if (!set.delete(rowKey(row))) this.unmatchedDeletes++;
      for (const row of m.inserts) set.set(rowKey(row), row);
    }
    for (const s of tx.sequences ?? []) this.sequences.set(`${s.tableId}:${s.colId}`, s);
    this.offset = tx.offset;
  }

  build(): DatabaseImage {
    const tables = new Map<number, Uint8Array[]>();
    for (const [id, set] of this.tables) tables.set(id, [...set.values()]);
    return { offset: this.offset, tables, sequences: [...this.sequences.values()] };
  }
}
