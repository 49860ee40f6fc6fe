/**
 * Subscription joins in the shapes SpacetimeDB's query builder emits (`leftSemijoin`/`rightSemijoin`,
 * host spec §4.3): `SELECT r.* FROM l JOIN r ON l.x = r.y [WHERE …]`. The result is the rows of the
 * projected table that pass its own conditions and have a row of the other table (the lookup) with an
 * equal join column that passes the lookup's conditions — a semijoin, as SpacetimeDB plans it (an index
 * join followed by a projection). The rules SpacetimeDB's compiler applies are kept: columns qualified,
 * the JOINed table's join column indexed, no event tables, one table's rows returned. WHERE may hold
 * AND-ed conditions on one table each (what the query builder writes); a condition spanning both
 * tables is refused.
 */
import type { ColumnSchema, ModuleSchema, TableSchema } from '../contract.js';
import { bytesKey, columnSpan } from '../store/bsatn-layout.js';
import type { FieldRef, SqlExpr, SqlSelect } from './ast.js';
import type { CompiledQuery } from './compile.js';
import { planIndexScan } from './index-plan.js';
import { SqlError } from './sql-error.js';
import { columnsNeeded, decoder, readableTable, type SqlAuth } from './tables.js';
import { resolveProjectedColumn, type Scope, typeFilter, unresolvedVar } from './typecheck.js';
import { sameType } from './types.js';

export interface Semijoin {
  /** The other table: its rows decide which rows of the query's table are in the result. */
  readonly lookup: TableSchema;
  /** Whether a row of `lookup` passes the conditions on `lookup`. */
  lookupMatches(row: Uint8Array): boolean;
  /** The join column of a row of the query's table, as a comparable key. */
  keyOf(row: Uint8Array): string;
  /** The join column of a row of `lookup`, as a key comparable with `keyOf`'s. */
  lookupKeyOf(row: Uint8Array): string;
}

const TABLE_TYPE_ONLY =
  'Column projections are not supported in subscriptions; Subscriptions must return a table type';

interface Side {
  readonly table: TableSchema;
  readonly alias: string;
  readonly conditions: SqlExpr[];
}

export function compileJoin(sql: string, ast: SqlSelect, schema: ModuleSchema, auth: SqlAuth): CompiledQuery {
  const join = ast.join as NonNullable<SqlSelect['join']>;
  // Same order as SpacetimeDB's type checker: FROM (with the join), then WHERE, then the projection.
  const left: Side = {
    table: readableTable(schema, ast.from.table, auth),
    alias: ast.from.alias,
    conditions: [],
  };
  const right: Side = { table: readableTable(schema, join.table, auth), alias: join.alias, conditions: [] };
  if (left.alias === right.alias)
    throw new SqlError('unsupported', `Duplicate name \`${left.alias}\` in the join`);
  const sides = [left, right];
  const sideOf = (alias: string): Side => {
    const side = sides.find((s) => s.alias === alias);
    if (!side) throw unresolvedVar(alias);
    return side;
  };
  const scope = (side: Side): Scope => ({
    table: side.table,
    alias: side.alias,
    typespace: schema.typespace,
    sender: auth.sender,
  });
  const column = (ref: FieldRef): { side: Side; column: ColumnSchema } => {
    const side = sideOf(ref.table);
    resolveProjectedColumn(scope(side), ref.table, ref.field); // throws SpacetimeDB's errors
    const col = side.table.columns.find((c) => c.name === ref.field || c.sourceName === ref.field);
    return { side, column: col as ColumnSchema };
  };
  const a = column(join.on.left);
  const b = column(join.on.right);
  if (a.side === b.side)
    throw new SqlError('unsupported', 'The join condition must compare a column of each table');
  if (!sameType(a.column.type, b.column.type, schema.typespace))
    throw new SqlError(
      'type',
      `join columns \`${a.side.alias}.${a.column.name}\` and \`${b.side.alias}.${b.column.name}\` differ in type`,
    );
  const joinColumn = new Map([
    [a.side, a.column],
    [b.side, b.column],
  ]);
  const rightColumn = joinColumn.get(right) as ColumnSchema;
  if (!right.table.indexes.some((i) => i.columns[0] === rightColumn.colId))
    throw new SqlError('unsupported', 'Subscriptions require indexes on join columns');

  for (const condition of conjuncts(ast.filter)) {
    const aliases = new Set(fieldsOf(condition).map((f) => f.table));
    if (aliases.size > 1)
      throw new SqlError(
        'unsupported',
        'devhost evaluates join filters as AND-ed conditions on one table each; this condition spans both tables',
      );
    const [alias] = aliases;
    (alias === undefined ? projected(ast, sideOf) : sideOf(alias)).conditions.push(condition);
  }
  const returned = projected(ast, sideOf);
  const lookup = returned === left ? right : left;
  if (lookup.table.isEvent || returned.table.isEvent)
    throw new SqlError(
      'unsupported',
      'Event tables cannot be used as the lookup table in subscription joins',
    );

  const filterOf = (side: Side): ((row: Uint8Array) => boolean) => {
    const expr = and(side.conditions);
    if (!expr) return () => true;
    const test = typeFilter(scope(side), expr);
    const fields = side.conditions.flatMap((c) => fieldsOf(c).map((f) => f.field));
    const decode = decoder(side.table, schema, columnsNeeded(side.table, fields));
    return (row) => test(decode(row));
  };
  // Typed in the order written (left table first), so errors name the first bad condition.
  const filters = new Map(sides.map((s) => [s, filterOf(s)]));
  const keyOf = (side: Side) => {
    const colId = (joinColumn.get(side) as ColumnSchema).colId;
    return (row: Uint8Array) => {
      const [start, end] = columnSpan(side.table.rowType, schema.typespace, row, colId);
      return bytesKey(row, start, end);
    };
  };
  const returnedFilter = and(returned.conditions);
  const indexScan = returnedFilter
    ? planIndexScan(returnedFilter, returned.table, returned.alias, schema)
    : undefined;
  return {
    sql,
    table: returned.table,
    matches: filters.get(returned) as (row: Uint8Array) => boolean,
    ...(indexScan ? { indexScan } : {}),
    semijoin: {
      lookup: lookup.table,
      lookupMatches: filters.get(lookup) as (row: Uint8Array) => boolean,
      keyOf: keyOf(returned),
      lookupKeyOf: keyOf(lookup),
    },
  };
}

/** The side whose rows the query returns: `SELECT t.*` must name one of the two. */
function projected(ast: SqlSelect, sideOf: (alias: string) => Side): Side {
  switch (ast.project.kind) {
    case 'star':
      if (ast.project.qualifier === undefined)
        throw new SqlError(
          'unsupported',
          `SELECT * of a join returns two tables; ${TABLE_TYPE_ONLY} (write SELECT t.*)`,
        );
      return sideOf(ast.project.qualifier);
    case 'columns':
      for (const c of ast.project.columns) sideOf(c.table);
      throw new SqlError('unsupported', TABLE_TYPE_ONLY);
    case 'count':
      throw new SqlError('unsupported', TABLE_TYPE_ONLY);
  }
}

function conjuncts(e: SqlExpr | undefined): SqlExpr[] {
  if (!e) return [];
  return e.kind === 'log' && e.op === 'AND' ? [...conjuncts(e.left), ...conjuncts(e.right)] : [e];
}

function and(conditions: readonly SqlExpr[]): SqlExpr | undefined {
  return conditions.reduce<SqlExpr | undefined>(
    (acc, c) => (acc ? { kind: 'log', op: 'AND', left: acc, right: c } : c),
    undefined,
  );
}

/** The column references in an expression. */
export function fieldsOf(e: SqlExpr): FieldRef[] {
  switch (e.kind) {
    case 'field':
      return [e];
    case 'bin':
    case 'log':
      return [...fieldsOf(e.left), ...fieldsOf(e.right)];
    default:
      return [];
  }
}
