/**
 * One table's rows and every structure that finds them: btree indexes (ordered keys in a B+tree),
 * hash indexes, unique constraints and, for tables without any unique constraint, a whole-row map
 * for SpacetimeDB's set semantics. Rows are BSATN; each has a stable numeric pointer.
 * Knows nothing about transactions: the datastore decides what to add and remove.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { IndexSchema, TableSchema, Typespace } from '../contract.js';
import { bytesKey, type RowBounds, rowBounds } from './bsatn-layout.js';
import { BTree } from './btree.js';
import { KeyBytes, type KeyWriter, keyWriter, orderedKey } from './ordered-key.js';

/** Ordered keys are latin1 strings: plain comparison, without the library's mixed-type checks. */
const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface IndexStore {
  readonly schema: IndexSchema;
  readonly columnTypes: readonly AlgebraicTypeType[];
  /** Pointers of rows whose key columns equal the BSATN `point`, in key order. */
  point(point: Uint8Array): number[];
  /** btree only: rows with ordered key in [low, high), in key order. */
  range(low: string, high: string): number[];
}

class BTreeIndex implements IndexStore {
  private readonly tree = new BTree<string, number>(undefined, compareKeys);
  private readonly writers: readonly KeyWriter[];
  private readonly key = new KeyBytes();
  private readonly pair: [string, number] = ['', 0];
  constructor(
    readonly schema: IndexSchema,
    readonly columnTypes: readonly AlgebraicTypeType[],
    private readonly typespace: Typespace,
  ) {
    this.writers = columnTypes.map((ty) => keyWriter(ty, typespace));
  }
  /** The row's key columns, then its pointer (48-bit, big-endian): unique entries, in key order. */
  private entryKey(ptr: number, row: Uint8Array, bounds: readonly number[]): string {
    const kb = this.key.reset();
    const columns = this.schema.columns;
    for (let i = 0; i < columns.length; i++)
      (this.writers[i] as KeyWriter)(row, bounds[columns[i] as number] as number, kb);
    kb.pushU48(ptr);
    return kb.toString();
  }
  add(ptr: number, row: Uint8Array, bounds: readonly number[]): void {
    this.tree.set(this.entryKey(ptr, row, bounds), ptr);
  }
  remove(ptr: number, row: Uint8Array, bounds: readonly number[]): void {
    this.tree.delete(this.entryKey(ptr, row, bounds));
  }
  point(point: Uint8Array): number[] {
    const { key, end } = orderedKey(this.columnTypes, this.typespace, point);
    if (end !== point.length) throw new RangeError('point has trailing bytes');
    return this.range(key, `${key}\u0100`);
  }
  range(low: string, high: string): number[] {
    const out: number[] = [];
    if (low >= high) return out;
    // Most point scans (an append's idempotency check) find nothing: one descent answers that,
    // where a range walk costs several.
    const first = this.tree.getPairOrNextHigher(low, this.pair);
    if (first === undefined || first[0] >= high) return out;
    this.tree.forRange(low, high, false, (_k, ptr) => {
      out.push(ptr);
    });
    return out;
  }
  clear(): void {
    this.tree.clear();
  }
}

class HashIndex implements IndexStore {
  private readonly map = new Map<string, Set<number>>();
  constructor(
    readonly schema: IndexSchema,
    readonly columnTypes: readonly AlgebraicTypeType[],
  ) {}
  private keyOf(row: Uint8Array, bounds: readonly number[]): string {
    let key = '';
    for (const col of this.schema.columns)
      key += bytesKey(row, bounds[col] as number, bounds[col + 1] as number);
    return key;
  }
  add(ptr: number, row: Uint8Array, bounds: readonly number[]): void {
    const key = this.keyOf(row, bounds);
    let set = this.map.get(key);
    if (!set) {
      set = new Set();
      this.map.set(key, set);
    }
    set.add(ptr);
  }
  remove(ptr: number, row: Uint8Array, bounds: readonly number[]): void {
    const key = this.keyOf(row, bounds);
    const set = this.map.get(key);
    if (!set) return;
    set.delete(ptr);
    if (set.size === 0) this.map.delete(key);
  }
  point(point: Uint8Array): number[] {
    return [...(this.map.get(bytesKey(point)) ?? [])];
  }
  range(): number[] {
    throw new RangeError('hash index does not support range scans');
  }
  clear(): void {
    this.map.clear();
  }
}

/** Unique constraint: BSATN of its columns → the one row holding it. */
class UniqueConstraint {
  readonly map = new Map<string, number>();
  constructor(readonly columns: readonly number[]) {}
  keyOf(row: Uint8Array, bounds: readonly number[]): string {
    let key = '';
    for (const col of this.columns) key += bytesKey(row, bounds[col] as number, bounds[col + 1] as number);
    return key;
  }
}

/**
 * What identifies a row before it is written: its column bounds and the key of each unique
 * constraint, computed once for the set-semantics check, the conflict check and the write.
 */
export interface RowKeys {
  readonly bounds: readonly number[];
  /** One per unique constraint, in `Table.uniques` order; empty when the table has none. */
  readonly unique: readonly string[];
  /** The whole row's bytes as a key, only for a table without unique constraints (set semantics). */
  readonly whole: string | undefined;
}

export class Table {
  readonly rows = new Map<number, Uint8Array>();
  readonly indexes = new Map<number, BTreeIndex | HashIndex>();
  readonly uniques: UniqueConstraint[];
  /** Whole-row map, only when no unique constraint can identify a row. */
  private readonly wholeRows: Map<string, number> | undefined;
  private readonly layout: RowBounds;

  constructor(
    readonly schema: TableSchema,
    readonly typespace: Typespace,
    uniqueColumnSets: readonly (readonly number[])[],
  ) {
    for (const ix of schema.indexes) {
      const types = ix.columns.map((c) => schema.columns[c]?.type as AlgebraicTypeType);
      this.indexes.set(
        ix.indexId,
        ix.algorithm === 'hash' ? new HashIndex(ix, types) : new BTreeIndex(ix, types, typespace),
      );
    }
    this.uniques = uniqueColumnSets.map((cols) => new UniqueConstraint(cols));
    this.wholeRows = this.uniques.length === 0 ? new Map() : undefined;
    this.layout = rowBounds(schema.rowType, typespace);
  }

  bounds(row: Uint8Array): number[] {
    return this.layout(row);
  }

  keys(row: Uint8Array, bounds: readonly number[] = this.bounds(row)): RowKeys {
    return {
      bounds,
      unique: this.uniques.map((u) => u.keyOf(row, bounds)),
      whole: this.wholeRows ? bytesKey(row) : undefined,
    };
  }

  /** The row byte-identical to `row`, if stored. */
  findIdentical(row: Uint8Array, keys: RowKeys = this.keys(row)): number | undefined {
    if (this.wholeRows) return this.wholeRows.get(keys.whole ?? bytesKey(row));
    const ptr = (this.uniques[0] as UniqueConstraint).map.get(keys.unique[0] as string);
    if (ptr === undefined) return undefined;
    return Buffer.from(this.rows.get(ptr) as Uint8Array).equals(row) ? ptr : undefined;
  }

  /** The first unique constraint `row` would violate, ignoring the row at `except`. */
  uniqueConflict(keys: RowKeys, except?: number): readonly number[] | undefined {
    for (let i = 0; i < this.uniques.length; i++) {
      const u = this.uniques[i] as UniqueConstraint;
      const holder = u.map.get(keys.unique[i] as string);
      if (holder !== undefined && holder !== except) return u.columns;
    }
    return undefined;
  }

  /** Row holding the unique key given as BSATN of `columns` (which must be a unique constraint). */
  findUnique(columns: readonly number[], keyBsatn: Uint8Array): number | undefined {
    const u = this.uniques.find(
      (c) => c.columns.length === columns.length && c.columns.every((x, i) => x === columns[i]),
    );
    return u?.map.get(bytesKey(keyBsatn));
  }

  add(ptr: number, row: Uint8Array, keys: RowKeys = this.keys(row)): void {
    this.rows.set(ptr, row);
    for (const ix of this.indexes.values()) ix.add(ptr, row, keys.bounds);
    for (let i = 0; i < this.uniques.length; i++)
      (this.uniques[i] as UniqueConstraint).map.set(keys.unique[i] as string, ptr);
    this.wholeRows?.set(keys.whole ?? bytesKey(row), ptr);
  }

  remove(ptr: number): Uint8Array | undefined {
    const row = this.rows.get(ptr);
    if (!row) return undefined;
    const bounds = this.bounds(row);
    this.rows.delete(ptr);
    for (const ix of this.indexes.values()) ix.remove(ptr, row, bounds);
    for (const u of this.uniques) {
      const key = u.keyOf(row, bounds);
      if (u.map.get(key) === ptr) u.map.delete(key);
    }
    this.wholeRows?.delete(bytesKey(row));
    return row;
  }
  /**
   * Drops every row at once. For an event table at commit: all its rows came from the one transaction
   * (none ever reaches committed state), so this is the same as removing each, without recomputing
   * every row's column bounds and keys (that was ~3 % of a 100-event append: two event rows per event).
   */
  clear(): void {
    this.rows.clear();
    for (const ix of this.indexes.values()) ix.clear();
    for (const u of this.uniques) u.map.clear();
    this.wholeRows?.clear();
  }

  index(indexId: number): BTreeIndex | HashIndex | undefined {
    return this.indexes.get(indexId);
  }
}
