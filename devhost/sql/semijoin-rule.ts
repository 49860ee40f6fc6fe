/**
 * Row-level-security rules of the one join shape modules use to grant reads:
 *
 *   SELECT a.* FROM a JOIN b ON a.x = b.y WHERE b.z = :sender
 *
 * "a row of `a` is visible to the sender iff some row of `b` names the sender and the row's `x`".
 * SpacetimeDB evaluates such rules as an index semijoin; devhost keeps, per client, the set of join
 * keys the sender holds in `b`, and reports how that set changed after a transaction touched `b`,
 * so rows can appear and disappear for the client exactly as the grant table changes. Any other
 * join shape stays refused by the general SQL path.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { ColumnSchema, IndexSchema, ModuleSchema, TableSchema } from '../contract.js';
import { bytesKey, columnBounds, columnSpan } from '../store/bsatn-layout.js';
import { SqlError } from './sql-error.js';

const IDENT = `(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_]*))`;
const FIELD = String.raw`${IDENT}\s*\.\s*${IDENT}`;
const SHAPE = new RegExp(
  String.raw`^\s*SELECT\s+${IDENT}\s*\.\s*\*\s+FROM\s+${IDENT}\s+(?:INNER\s+)?JOIN\s+${IDENT}\s+ON\s+${FIELD}\s*=\s*${FIELD}\s+WHERE\s+${FIELD}\s*=\s*:sender\s*;?\s*$`,
  'i',
);

export interface SemijoinRule {
  readonly sql: string;
  readonly target: TableSchema;
  readonly targetColumn: ColumnSchema;
  readonly lookup: TableSchema;
  readonly lookupColumn: ColumnSchema;
  readonly senderColumn: ColumnSchema;
  /** A btree index of `lookup` led by `senderColumn`: a client's grants are read from it, not the whole table. */
  readonly senderIndex?: IndexSchema;
}

/** Where a semijoin reads its lookup table: the whole table, or (given `scan`) one index range of it. */
export type LookupRows = (tableId: number, scan?: SenderScan) => Iterable<Uint8Array>;

/** An index range of the lookup table holding the rows of one sender (`HostedDatabase.scanIndexRange`). */
export interface SenderScan {
  readonly indexId: number;
  readonly prefix: Uint8Array;
  readonly prefixElems: number;
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

function name(groups: (string | undefined)[], at: number): string {
  const quoted = groups[at];
  return quoted !== undefined ? quoted.replaceAll('""', '"') : (groups[at + 1] as string);
}

function column(table: TableSchema, name: string): ColumnSchema {
  const col = table.columns.find((c) => c.name === name) ?? table.columns.find((c) => c.sourceName === name);
  if (!col) throw new SqlError('unresolved', `\`${table.name}\` has no column \`${name}\``);
  return col;
}

const isIdentity = (ty: AlgebraicTypeType): boolean =>
  ty.tag === 'Product' && ty.value.elements.length === 1 && ty.value.elements[0]?.name === '__identity__';

/** The rule as a semijoin, or undefined when it is not of this shape. */
export function parseSemijoinRule(sql: string, schema: ModuleSchema): SemijoinRule | undefined {
  const m = SHAPE.exec(sql);
  if (!m) return undefined;
  const g = m.slice(1);
  const [projected, from, joined] = [name(g, 0), name(g, 2), name(g, 4)];
  const on = [
    [name(g, 6), name(g, 8)],
    [name(g, 10), name(g, 12)],
  ] as const;
  const where = [name(g, 14), name(g, 16)] as const;
  const target = schema.tableByName(from);
  const lookup = schema.tableByName(joined);
  if (!target) throw new SqlError('unresolved', `no such table: \`${from}\``);
  if (!lookup) throw new SqlError('unresolved', `no such table: \`${joined}\``);
  const is = (n: string, t: TableSchema) => n === t.name || n === t.sourceName;
  if (!is(projected, target)) throw new SqlError('unsupported', `the rule must return rows of \`${from}\``);
  const sides = on.map(([t, c]) => ({ t, c }));
  const targetSide = sides.find((s) => is(s.t, target));
  const lookupSide = sides.find((s) => is(s.t, lookup) && s !== targetSide);
  if (!targetSide || !lookupSide)
    throw new SqlError('unsupported', 'the join must compare a column of each table');
  if (!is(where[0], lookup))
    throw new SqlError('unsupported', `the WHERE clause must test a column of \`${joined}\``);
  const targetColumn = column(target, targetSide.c);
  const lookupColumn = column(lookup, lookupSide.c);
  const senderColumn = column(lookup, where[1]);
  if (JSON.stringify(targetColumn.type) !== JSON.stringify(lookupColumn.type)) {
    throw new SqlError(
      'type',
      `join columns \`${targetColumn.name}\` and \`${lookupColumn.name}\` differ in type`,
    );
  }
  if (!isIdentity(senderColumn.type))
    throw new SqlError('type', `\`${senderColumn.name}\` must be an Identity to compare with :sender`);
  const senderIndex = lookup.indexes.find(
    (i) => i.algorithm === 'btree' && i.columns[0] === senderColumn.colId,
  );
  return {
    sql,
    target,
    targetColumn,
    lookup,
    lookupColumn,
    senderColumn,
    ...(senderIndex ? { senderIndex } : {}),
  };
}

/** The index range of `index` (led by the sender column) holding `senderBytes`' rows. */
function senderScan(index: IndexSchema, senderBytes: Uint8Array): SenderScan {
  const point = new Uint8Array(1 + senderBytes.length);
  point.set(senderBytes, 1); // Bound tag 0: included
  // A one-column index: the sender as an inclusive range of one value; else the sender as the prefix.
  return index.columns.length === 1
    ? { indexId: index.indexId, prefix: new Uint8Array(0), prefixElems: 0, start: point, end: point }
    : { indexId: index.indexId, prefix: senderBytes, prefixElems: 1, start: UNBOUNDED, end: UNBOUNDED };
}

const UNBOUNDED = Uint8Array.of(2);

/** BSATN of an Identity (u256, little-endian). */
function identityBytes(sender: bigint): Uint8Array {
  const b = new Uint8Array(32);
  let v = sender;
  for (let i = 0; i < 32; i++) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

/** A sender as a semijoin compares it: its BSATN, and that as a lookup key. */
export interface SenderKey {
  readonly bytes: Uint8Array;
  readonly key: string;
}

export function senderKey(sender: bigint): SenderKey {
  const bytes = identityBytes(sender);
  return { bytes, key: bytesKey(bytes) };
}

/** Per client: the join keys of `target` rows the sender may see, kept in step with `lookup`. */
export class SemijoinState {
  private keys = new Set<string>();
  private readonly scan: SenderScan | undefined;

  constructor(
    readonly rule: SemijoinRule,
    private readonly sender: SenderKey,
    private readonly schema: ModuleSchema,
    private readonly rows: LookupRows,
  ) {
    this.scan = rule.senderIndex ? senderScan(rule.senderIndex, sender.bytes) : undefined;
    this.keys = this.compute();
  }

  private compute(): Set<string> {
    const keys = new Set<string>();
    const { lookup, lookupColumn, senderColumn } = this.rule;
    // The sender's own rows when an index is led by its column (else every row); checked either way.
    for (const row of this.rows(lookup.tableId, this.scan)) {
      const b = columnBounds(lookup.rowType, this.schema.typespace, row);
      if (bytesKey(row, b[senderColumn.colId], b[senderColumn.colId + 1]) !== this.sender.key) continue;
      keys.add(bytesKey(row, b[lookupColumn.colId], b[lookupColumn.colId + 1]));
    }
    return keys;
  }

  keyOf(row: Uint8Array): string {
    // Called for every row a client may see: read up to the join column only, not the whole row.
    const { target, targetColumn } = this.rule;
    const [start, end] = columnSpan(target.rowType, this.schema.typespace, row, targetColumn.colId);
    return bytesKey(row, start, end);
  }

  allows(row: Uint8Array): boolean {
    return this.keys.has(this.keyOf(row));
  }

  /** Recompute after `lookup` changed; returns the keys that became visible and invisible. */
  refresh(): { gained: Set<string>; lost: Set<string>; before: ReadonlySet<string> } {
    const before = this.keys;
    const after = this.compute();
    this.keys = after;
    return {
      gained: new Set([...after].filter((k) => !before.has(k))),
      lost: new Set([...before].filter((k) => !after.has(k))),
      before,
    };
  }
}
