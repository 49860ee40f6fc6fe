/**
 * The transactional in-memory datastore: SpacetimeDB's mutable-transaction semantics over `Table`s
 * (host spec §2.5): set semantics, unique constraints, auto-increment sequences (sequences.ts) never rolled
 * back, update through a unique index, event tables whose rows live only inside their transaction.
 * Writes apply in place and are undone from an undo log on rollback, so a transaction costs what it
 * touches, not what the database holds.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { TableSchema, Typespace } from '../contract.js';
import { BsatnError, bytesKey, skipValue } from './bsatn-layout.js';
import { Errno, HostError } from './errno.js';
import { orderedKey } from './ordered-key.js';
import { type Sequence, type SequenceState, Sequences, stateOf } from './sequences.js';
import { type RowKeys, Table } from './table.js';

export interface TableChanges {
  readonly table: TableSchema;
  readonly inserts: Uint8Array[];
  readonly deletes: Uint8Array[];
}

export interface CommitResult {
  readonly changes: TableChanges[];
  /** Sequence allocations that moved during the transaction (to persist). */
  readonly sequences: SequenceState[];
}

type Undo =
  | { readonly kind: 'inserted'; readonly table: Table; readonly ptr: number }
  | { readonly kind: 'deleted'; readonly table: Table; readonly ptr: number; readonly row: Uint8Array };

interface TxTable {
  readonly inserted: Set<number>;
  /** Committed rows deleted in this tx, by pointer, plus their bytes for "undelete" on re-insert. */
  readonly deleted: Map<number, Uint8Array>;
  readonly deletedByBytes: Map<string, number>;
}

class Tx {
  readonly undo: Undo[] = [];
  readonly touched = new Map<Table, TxTable>();
  readonly sequencesMoved = new Set<Sequence>();
  of(table: Table): TxTable {
    let t = this.touched.get(table);
    if (!t) {
      t = { inserted: new Set(), deleted: new Map(), deletedByBytes: new Map() };
      this.touched.set(table, t);
    }
    return t;
  }
}

export class Datastore {
  private readonly tables = new Map<number, Table>();
  private readonly tableByIndex = new Map<number, Table>();
  private readonly sequences = new Sequences();
  private nextPtr = 1;
  private tx: Tx | undefined;

  constructor(readonly typespace: Typespace) {}

  addTable(schema: TableSchema, uniqueColumnSets: readonly (readonly number[])[]): void {
    const table = new Table(schema, this.typespace, uniqueColumnSets);
    this.tables.set(schema.tableId, table);
    for (const ix of schema.indexes) this.tableByIndex.set(ix.indexId, table);
    this.sequences.addTable(schema);
  }

  table(tableId: number): Table {
    const t = this.tables.get(tableId);
    if (!t) throw new HostError(Errno.NO_SUCH_TABLE, `table id ${tableId}`);
    return t;
  }

  hasTable(tableId: number): boolean {
    return this.tables.has(tableId);
  }

  allTables(): Iterable<Table> {
    return this.tables.values();
  }

  get inTransaction(): boolean {
    return this.tx !== undefined;
  }

  // ---- recovery ----

  /** Loads committed rows outside any transaction (recovery). */
  loadRows(tableId: number, rows: Iterable<Uint8Array>): void {
    const table = this.table(tableId);
    for (const row of rows) table.add(this.nextPtr++, row);
  }

  /** Resumes a sequence after its persisted allocation, as SpacetimeDB does after a restart. */
  restoreSequence(state: SequenceState): void {
    this.sequences.restore(state);
  }

  sequenceStates(): SequenceState[] {
    return this.sequences.states();
  }

  // ---- transactions ----

  begin(): void {
    if (this.tx) throw new Error('internal: transaction already open');
    this.tx = new Tx();
  }

  private requireTx(): Tx {
    if (!this.tx) throw new HostError(Errno.NOT_IN_TRANSACTION);
    return this.tx;
  }

  rollback(): void {
    const tx = this.requireTx();
    for (let i = tx.undo.length - 1; i >= 0; i--) {
      const u = tx.undo[i] as Undo;
      if (u.kind === 'inserted') u.table.remove(u.ptr);
      else u.table.add(u.ptr, u.row);
    }
    this.tx = undefined;
  }

  commit(): CommitResult {
    const tx = this.requireTx();
    const changes: TableChanges[] = [];
    for (const [table, t] of tx.touched) {
      const inserts = [...t.inserted].map((ptr) => table.rows.get(ptr) as Uint8Array);
      const deletes = [...t.deleted.values()];
      // Event-table rows were visible to the transaction only; they never enter committed state, so
      // the table holds nothing else and is emptied in one step.
      if (table.schema.isEvent) table.clear();
      if (inserts.length > 0 || deletes.length > 0) changes.push({ table: table.schema, inserts, deletes });
    }
    const sequences = [...tx.sequencesMoved].map(stateOf);
    this.tx = undefined;
    return { changes, sequences };
  }

  // ---- reads ----

  rowCount(tableId: number): number {
    this.requireTx();
    return this.table(tableId).rows.size;
  }

  scan(tableId: number): Uint8Array[] {
    this.requireTx();
    return [...this.table(tableId).rows.values()];
  }

  /** Committed rows outside a transaction (subscriptions, snapshots). */
  committedRows(tableId: number): Iterable<Uint8Array> {
    return this.table(tableId).rows.values();
  }

  /** Committed rows of a btree range outside a transaction (a subscription's planned index scan). */
  committedRange(
    indexId: number,
    prefix: Uint8Array,
    prefixElems: number,
    start: Uint8Array,
    end: Uint8Array,
  ): Uint8Array[] {
    const { table, ptrs } = this.rangePtrs(indexId, prefix, prefixElems, start, end);
    return ptrs.map((p) => table.rows.get(p) as Uint8Array);
  }

  private indexOf(indexId: number): { table: Table; index: NonNullable<ReturnType<Table['index']>> } {
    const table = this.tableByIndex.get(indexId);
    const index = table?.index(indexId);
    if (table && index) return { table, index };
    throw new HostError(Errno.NO_SUCH_INDEX, `index id ${indexId}`);
  }

  private pointPtrs(indexId: number, point: Uint8Array): { table: Table; ptrs: number[] } {
    const { table, index } = this.indexOf(indexId);
    try {
      return { table, ptrs: index.point(point) };
    } catch (e) {
      throw new HostError(Errno.BSATN_DECODE_ERROR, String(e));
    }
  }

  scanPoint(indexId: number, point: Uint8Array): Uint8Array[] {
    this.requireTx();
    const { table, ptrs } = this.pointPtrs(indexId, point);
    return ptrs.map((p) => table.rows.get(p) as Uint8Array);
  }

  /**
   * Range scan (host spec §2.3): `prefix` = `prefixElems` values equal on the first index columns,
   * then BSATN `Bound`s on the next column.
   */
  private rangePtrs(
    indexId: number,
    prefix: Uint8Array,
    prefixElems: number,
    start: Uint8Array,
    end: Uint8Array,
  ): { table: Table; ptrs: number[] } {
    const { table, index } = this.indexOf(indexId);
    if (index.schema.algorithm === 'hash') throw new HostError(Errno.WRONG_INDEX_ALGO);
    const types = index.columnTypes;
    if (prefixElems >= types.length)
      throw new HostError(
        Errno.BSATN_DECODE_ERROR,
        `prefix of ${prefixElems} elements on a ${types.length}-column index`,
      );
    try {
      let p = '';
      if (prefixElems > 0) {
        const k = orderedKey(types.slice(0, prefixElems), this.typespace, prefix);
        if (k.end !== prefix.length) throw new BsatnError('trailing bytes in prefix');
        p = k.key;
      }
      const boundType = types[prefixElems] as AlgebraicTypeType;
      const bound = (bytes: Uint8Array): { tag: number; key: string } => {
        const tag = bytes[0];
        if (tag === 2 && bytes.length === 1) return { tag, key: '' };
        if (tag !== 0 && tag !== 1) throw new BsatnError(`invalid bound tag ${tag}`);
        const k = orderedKey([boundType], this.typespace, bytes, 1);
        if (k.end !== bytes.length) throw new BsatnError('trailing bytes in bound');
        return { tag, key: k.key };
      };
      const lo = bound(start);
      const hi = bound(end);
      const low = lo.tag === 2 ? p : lo.tag === 0 ? p + lo.key : `${p + lo.key}\u0100`;
      const high = hi.tag === 2 ? `${p}\u0100` : hi.tag === 0 ? `${p + hi.key}\u0100` : p + hi.key;
      return { table, ptrs: index.range(low, high) };
    } catch (e) {
      if (e instanceof HostError) throw e;
      throw new HostError(Errno.BSATN_DECODE_ERROR, String(e));
    }
  }

  scanRange(
    indexId: number,
    prefix: Uint8Array,
    prefixElems: number,
    start: Uint8Array,
    end: Uint8Array,
  ): Uint8Array[] {
    this.requireTx();
    return this.committedRange(indexId, prefix, prefixElems, start, end);
  }

  // ---- writes ----

  private bounds(table: Table, row: Uint8Array): number[] {
    try {
      return table.bounds(row);
    } catch (e) {
      throw new HostError(Errno.BSATN_DECODE_ERROR, `${table.schema.name}: ${String(e)}`);
    }
  }

  private addRow(tx: Tx, table: Table, row: Uint8Array, keys: RowKeys): void {
    const t = tx.of(table);
    const key = t.deletedByBytes.size > 0 ? bytesKey(row) : undefined;
    const undeleted = key === undefined ? undefined : t.deletedByBytes.get(key);
    if (undeleted !== undefined && key !== undefined) {
      // Re-inserting a row deleted earlier in this transaction restores it: no net change.
      t.deletedByBytes.delete(key);
      t.deleted.delete(undeleted);
      table.add(undeleted, row, keys);
      tx.undo.push({ kind: 'inserted', table, ptr: undeleted });
      return;
    }
    const ptr = this.nextPtr++;
    table.add(ptr, row, keys);
    t.inserted.add(ptr);
    tx.undo.push({ kind: 'inserted', table, ptr });
  }

  private deletePtr(tx: Tx, table: Table, ptr: number): void {
    const row = table.remove(ptr);
    if (!row) return;
    const t = tx.of(table);
    if (t.inserted.has(ptr)) t.inserted.delete(ptr);
    else {
      t.deleted.set(ptr, row);
      t.deletedByBytes.set(bytesKey(row), ptr);
    }
    tx.undo.push({ kind: 'deleted', table, ptr, row });
  }

  /**
   * `datastore_insert_bsatn`: returns the row as stored and the generated columns to write back.
   * `input` is only read (it may be a view of the module's buffer): a stored row is always a copy,
   * made once — where a sequence fills a column, that copy is the filled row.
   */
  insert(tableId: number, input: Uint8Array): { row: Uint8Array; generated: Uint8Array } {
    const tx = this.requireTx();
    const table = this.table(tableId);
    // Generated values are fixed-width ints written in place: the column layout stays the same.
    const bounds = this.bounds(table, input);
    const filled = this.sequences.fill(table.schema, input, bounds, tx.sequencesMoved);
    const generated = filled.generated;
    const keys = table.keys(filled.row, bounds);
    if (table.findIdentical(filled.row, keys) !== undefined) return { row: filled.row, generated };
    if (table.uniqueConflict(keys)) throw new HostError(Errno.UNIQUE_ALREADY_EXISTS, `${table.schema.name}`);
    const row = filled.row === input ? input.slice() : filled.row;
    this.addRow(tx, table, row, keys);
    return { row, generated };
  }

  /** `datastore_update_bsatn`: replace the row whose `indexId` key equals the new row's (`input` as in `insert`). */
  update(tableId: number, indexId: number, input: Uint8Array): { row: Uint8Array; generated: Uint8Array } {
    const tx = this.requireTx();
    const table = this.table(tableId);
    const index = table.index(indexId);
    if (!index) throw new HostError(Errno.NO_SUCH_INDEX, `index id ${indexId} on ${table.schema.name}`);
    if (!index.schema.unique) throw new HostError(Errno.INDEX_NOT_UNIQUE, index.schema.name);
    const bounds = this.bounds(table, input);
    const filled = this.sequences.fill(table.schema, input, bounds, tx.sequencesMoved);
    const generated = filled.generated;
    let row = filled.row;
    let key: Uint8Array = new Uint8Array(0);
    for (const col of index.schema.columns) key = concat(key, row.subarray(bounds[col], bounds[col + 1]));
    const oldPtr = table.findUnique(index.schema.columns, key);
    if (oldPtr === undefined) throw new HostError(Errno.NO_SUCH_ROW, `${table.schema.name}`);
    const old = table.rows.get(oldPtr) as Uint8Array;
    if (Buffer.from(old).equals(row)) return { row, generated };
    const keys = table.keys(row, bounds);
    if (table.uniqueConflict(keys, oldPtr))
      throw new HostError(Errno.UNIQUE_ALREADY_EXISTS, `${table.schema.name}`);
    if (row === input) row = input.slice();
    this.deletePtr(tx, table, oldPtr);
    this.addRow(tx, table, row, keys);
    return { row, generated };
  }

  deleteByPoint(indexId: number, point: Uint8Array): number {
    const tx = this.requireTx();
    const { table, ptrs } = this.pointPtrs(indexId, point);
    for (const ptr of ptrs) this.deletePtr(tx, table, ptr);
    return ptrs.length;
  }

  deleteByRange(
    indexId: number,
    prefix: Uint8Array,
    prefixElems: number,
    start: Uint8Array,
    end: Uint8Array,
  ): number {
    const tx = this.requireTx();
    const { table, ptrs } = this.rangePtrs(indexId, prefix, prefixElems, start, end);
    for (const ptr of ptrs) this.deletePtr(tx, table, ptr);
    return ptrs.length;
  }

  /** `datastore_delete_all_by_eq_bsatn`: `rows` = BSATN `Array<Row>`; deletes byte-equal rows. */
  deleteAllByEq(tableId: number, rows: Uint8Array): number {
    const tx = this.requireTx();
    const table = this.table(tableId);
    if (rows.length < 4) throw new HostError(Errno.BSATN_DECODE_ERROR, 'missing array length');
    const n = new DataView(rows.buffer, rows.byteOffset, rows.byteLength).getUint32(0, true);
    let at = 4;
    let deleted = 0;
    for (let i = 0; i < n; i++) {
      let end: number;
      try {
        end = skipValue(table.schema.rowType, this.typespace, rows, at);
      } catch (e) {
        throw new HostError(Errno.BSATN_DECODE_ERROR, String(e));
      }
      const row = rows.subarray(at, end);
      at = end;
      const ptr = table.findIdentical(row, table.keys(row, this.bounds(table, row)));
      if (ptr !== undefined) {
        this.deletePtr(tx, table, ptr);
        deleted++;
      }
    }
    return deleted;
  }

  clear(tableId: number): number {
    const tx = this.requireTx();
    const table = this.table(tableId);
    const ptrs = [...table.rows.keys()];
    for (const ptr of ptrs) this.deletePtr(tx, table, ptr);
    return ptrs.length;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
