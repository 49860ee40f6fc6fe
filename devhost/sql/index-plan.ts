/**
 * Index selection for a subscription's initial rows, as SpacetimeDB's planner does for
 * `col = lit AND … AND col2 > lit` (`crates/physical-plan`: an index scan instead of a table scan).
 * The plan only narrows which rows are read: the query's full filter still decides each one, so a
 * plan can be conservative (any conjunct it does not understand is simply left to the filter).
 *
 * Planned: conjunctions of comparisons between a column and a literal, on columns of integer,
 * string or bool type, covered by a btree index as equalities on a prefix of its columns plus at
 * most one range on the next column. Anything else (OR at the top, floats, Identity, `:sender`)
 * reads the table.
 */
import { AlgebraicType, BinaryWriter } from 'spacetimedb';
import type { ColumnSchema, IndexSchema, ModuleSchema, TableSchema } from '../contract.js';
import type { SqlExpr } from './ast.js';
import { LiteralError, parseLiteral } from './literals.js';
import { columnByNameOrAlias } from './typecheck.js';
import { INT_TYPES, resolve, type Ty } from './types.js';

/** The arguments of a btree range scan (host spec §2.3): equal prefix, then Bound on the next column. */
export interface IndexScan {
  readonly indexId: number;
  readonly prefix: Uint8Array;
  readonly prefixElems: number;
  /** BSATN `Bound`: tag 0 included, 1 excluded, 2 unbounded; then the value. */
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  /**
   * The range holds exactly the rows the filter accepts (every conjunct is an equality on the prefix
   * or an integer bound on the next column), so the rows read need not be filtered again.
   */
  readonly exact?: boolean;
}

type Op = '=' | '<' | '<=' | '>' | '>=';
const FLIP: Record<Op, Op> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

interface Comparison {
  readonly colId: number;
  readonly op: Op;
  /** The literal as BSATN of the column's type. */
  readonly bytes: Uint8Array;
  /** An integer column: its btree order is the SQL order (a range on it is exact). */
  readonly int: boolean;
}

function conjuncts(e: SqlExpr): SqlExpr[] {
  return e.kind === 'log' && e.op === 'AND' ? [...conjuncts(e.left), ...conjuncts(e.right)] : [e];
}

function plannable(ty: Ty): boolean {
  return INT_TYPES[ty.tag] !== undefined || ty.tag === 'String' || ty.tag === 'Bool';
}

function literalBytes(col: ColumnSchema, schema: ModuleSchema, lit: SqlExpr): Uint8Array | undefined {
  if (lit.kind !== 'lit') return undefined;
  const ty = resolve(col.type, schema.typespace);
  if (!plannable(ty)) return undefined;
  let value: unknown;
  if (lit.lit.kind === 'bool') {
    if (ty.tag !== 'Bool') return undefined;
    value = lit.lit.value;
  } else {
    if (ty.tag === 'Bool') return undefined;
    try {
      value = parseLiteral(lit.lit.text, ty, ty.tag);
    } catch (e) {
      if (e instanceof LiteralError) return undefined; // the type checker reports it
      throw e;
    }
  }
  const w = new BinaryWriter(16);
  AlgebraicType.makeSerializer(ty as AlgebraicType, { types: schema.typespace.types as AlgebraicType[] })(
    w,
    value,
  );
  return w.getBuffer();
}

function comparison(
  e: SqlExpr,
  table: TableSchema,
  alias: string,
  schema: ModuleSchema,
): Comparison | undefined {
  if (e.kind !== 'bin' || e.op === '<>') return undefined;
  const [field, lit, op] =
    e.left.kind === 'field' ? [e.left, e.right, e.op] : [e.right, e.left, FLIP[e.op as Op]];
  if (field.kind !== 'field' || field.table !== alias) return undefined;
  const col = columnByNameOrAlias(table, field.field);
  if (!col) return undefined;
  const bytes = literalBytes(col, schema, lit);
  const int = INT_TYPES[resolve(col.type, schema.typespace).tag] !== undefined;
  return bytes ? { colId: col.colId, op: op as Op, bytes, int } : undefined;
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const bound = (tag: 0 | 1, value: Uint8Array) => concat([Uint8Array.of(tag), value]);
const UNBOUNDED = Uint8Array.of(2);

function planFor(
  index: IndexSchema,
  cmps: readonly Comparison[],
): { scan: IndexScan; score: number; used: number } | undefined {
  const eq = (col: number) => cmps.find((c) => c.colId === col && c.op === '=');
  const prefix: Uint8Array[] = [];
  for (const col of index.columns) {
    const c = eq(col);
    if (!c) break;
    prefix.push(c.bytes);
  }
  if (prefix.length === index.columns.length) {
    // Every column pinned: the last equality becomes an inclusive range of one value.
    const last = prefix.pop() as Uint8Array;
    const scan = {
      indexId: index.indexId,
      prefix: concat(prefix),
      prefixElems: prefix.length,
      start: bound(0, last),
      end: bound(0, last),
    };
    return { scan, score: index.columns.length * 2, used: index.columns.length };
  }
  const next = index.columns[prefix.length] as number;
  const lower = cmps.find((c) => c.colId === next && (c.op === '>' || c.op === '>='));
  const upper = cmps.find((c) => c.colId === next && (c.op === '<' || c.op === '<='));
  if (prefix.length === 0 && !lower && !upper) return undefined;
  const scan: IndexScan = {
    indexId: index.indexId,
    prefix: concat(prefix),
    prefixElems: prefix.length,
    start: lower ? bound(lower.op === '>=' ? 0 : 1, lower.bytes) : UNBOUNDED,
    end: upper ? bound(upper.op === '<=' ? 0 : 1, upper.bytes) : UNBOUNDED,
  };
  const ranges = [lower, upper].filter((c) => c !== undefined);
  return {
    scan,
    score: prefix.length * 2 + (ranges.length > 0 ? 1 : 0),
    // A range on a non-integer column (string order) is left to the filter to confirm.
    used: ranges.every((c) => c.int) ? prefix.length + ranges.length : -1,
  };
}

/** The best btree index scan for the filter, or undefined to read the whole table. */
export function planIndexScan(
  filter: SqlExpr | undefined,
  table: TableSchema,
  alias: string,
  schema: ModuleSchema,
): IndexScan | undefined {
  if (!filter) return undefined;
  const all = conjuncts(filter);
  const cmps = all
    .map((c) => comparison(c, table, alias, schema))
    .filter((c): c is Comparison => c !== undefined);
  if (cmps.length === 0) return undefined;
  let best: { scan: IndexScan; score: number; used: number } | undefined;
  for (const index of table.indexes) {
    if (index.algorithm !== 'btree') continue;
    const p = planFor(index, cmps);
    if (p && (!best || p.score > best.score)) best = p;
  }
  if (!best) return undefined;
  // Exact when the plan used every conjunct (each one a plannable comparison, none repeated).
  return best.used === all.length ? { ...best.scan, exact: true } : best.scan;
}
