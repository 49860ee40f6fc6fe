/**
 * Subscription / one-off query compilation (host spec §4): SQL text → one predicate per table whose
 * rows it returns, over BSATN rows; and the row-level-security filter for non-owners (§4.4).
 */
import { AlgebraicType, BinaryReader } from 'spacetimedb';
import type { ModuleSchema, TableSchema } from '../contract.js';
import { parseSubscription } from './parser.js';
import { SqlError } from './sql-error.js';
import {
  type DecodedRow,
  resolveProjectedColumn,
  type Scope,
  typeFilter,
  unresolvedVar,
} from './typecheck.js';

export interface SqlAuth {
  /** Caller identity (u256): what `:sender` means. */
  readonly sender: bigint;
  /** The database owner reads private tables and bypasses row-level security. */
  readonly isOwner: boolean;
}

export interface CompiledQuery {
  /** The fragment text (for `SELECT * FROM *`, one `SELECT * FROM <table>` per table). */
  readonly sql: string;
  /** The one table whose rows it returns. */
  readonly table: TableSchema;
  /** Whether a BSATN row of `table` is in the result. */
  matches(row: Uint8Array): boolean;
}

type Decode = (bytes: Uint8Array) => DecodedRow;

// Per table object: a schema's tables live as long as the schema, and rebuilding the deserializer for
// every query would dominate compiling a subscription.
const decoders = new WeakMap<TableSchema, Decode>();

function decoder(table: TableSchema, schema: ModuleSchema): Decode {
  let decode = decoders.get(table);
  if (!decode) {
    // The package types the typespace as a mutable array; it is only read.
    const deserialize = AlgebraicType.makeDeserializer(table.rowType, {
      types: schema.typespace.types as AlgebraicType[],
    });
    decode = (bytes) => deserialize(new BinaryReader(bytes)) as DecodedRow;
    decoders.set(table, decode);
  }
  return decode;
}

/**
 * A table the caller may read, by canonical name or alias. Private tables resolve only for the owner;
 * for anyone else they are reported exactly like missing ones, as SpacetimeDB does.
 */
function readableTable(schema: ModuleSchema, name: string, auth: SqlAuth): TableSchema {
  const table = schema.tableByName(name);
  if (!table || (!table.isPublic && !auth.isOwner))
    throw new SqlError(
      'unresolved',
      `no such table: \`${name}\`. If the table exists, it may be marked private.`,
    );
  return table;
}

/** SpacetimeDB's `is_subscribe_to_all_tables` (`subscription/query.rs`), on the trimmed text. */
const SELECT_ALL_TABLES = /^\s*\bSELECT\s+\*\s+FROM\s+\*\s*$/i;

/**
 * Compiles one query string into its fragments: one for a single-table query, one per readable
 * non-event table for `SELECT * FROM *`. Throws `SqlError` for anything devhost cannot evaluate exactly.
 */
export function compileQuery(sql: string, schema: ModuleSchema, auth: SqlAuth): CompiledQuery[] {
  const text = sql.trim();
  if (text === '') throw new SqlError('parse', 'Empty string');
  if (SELECT_ALL_TABLES.test(text)) {
    return schema.tables
      .filter((t) => !t.isEvent && (t.isPublic || auth.isOwner))
      .map((table) => ({ sql: `SELECT * FROM ${table.name}`, table, matches: () => true }));
  }
  const ast = parseSubscription(text);
  // Same order as SpacetimeDB's type checker: FROM, then WHERE, then the projection.
  const table = readableTable(schema, ast.from.table, auth);
  const scope: Scope = { table, alias: ast.from.alias, typespace: schema.typespace, sender: auth.sender };
  const filter = ast.filter ? typeFilter(scope, ast.filter) : undefined;
  switch (ast.project.kind) {
    case 'star':
      if (ast.project.qualifier !== undefined && ast.project.qualifier !== ast.from.alias)
        throw unresolvedVar(ast.project.qualifier);
      break;
    case 'columns':
      for (const c of ast.project.columns) resolveProjectedColumn(scope, c.table, c.field);
      throw new SqlError(
        'unsupported',
        'Column projections are not supported in subscriptions; Subscriptions must return a table type',
      );
    case 'count':
      throw new SqlError(
        'unsupported',
        'Column projections are not supported in subscriptions; Subscriptions must return a table type',
      );
  }
  if (!filter) return [{ sql, table, matches: () => true }];
  const decode = decoder(table, schema);
  return [{ sql, table, matches: (row) => filter(decode(row)) }];
}

/**
 * Row-level security (`clientVisibilityFilter`, spec §4.4): a non-owner sees a row of a table with
 * rules iff at least one of that table's rules matches it; tables without rules are unrestricted and
 * the owner sees everything. Rules use `:sender` for the viewer. A rule devhost cannot evaluate (a
 * join, say) is refused here rather than ignored, since ignoring it would leak rows.
 */
export function compileVisibility(
  schema: ModuleSchema,
  auth: SqlAuth,
): (tableId: number, row: Uint8Array) => boolean {
  if (auth.isOwner || schema.rowLevelSecurity.length === 0) return () => true;
  const rules = new Map<number, CompiledQuery[]>();
  for (const rule of schema.rowLevelSecurity) {
    let compiled: CompiledQuery[];
    try {
      // A rule is part of the module, not the caller's query: it may name any table, private included.
      compiled = compileQuery(rule, schema, { sender: auth.sender, isOwner: true });
    } catch (e) {
      if (!(e instanceof SqlError)) throw e;
      throw new SqlError(
        'unsupported',
        `row-level security rule \`${rule}\` cannot be applied: ${e.message}`,
      );
    }
    if (compiled.length !== 1 || SELECT_ALL_TABLES.test(rule.trim()))
      throw new SqlError('unsupported', `row-level security rule \`${rule}\` must return exactly one table`);
    const q = compiled[0] as CompiledQuery;
    rules.set(q.table.tableId, [...(rules.get(q.table.tableId) ?? []), q]);
  }
  return (tableId, row) => {
    const forTable = rules.get(tableId);
    return forTable === undefined || forTable.some((q) => q.matches(row));
  };
}
