/**
 * Subscription / one-off query compilation (host spec §4): SQL text → one predicate per table whose
 * rows it returns, over BSATN rows; and the row-level-security filter for non-owners (§4.4).
 */
import type { ModuleSchema, TableSchema } from '../contract.js';
import { compileJoin, fieldsOf, type Semijoin } from './compile-join.js';
import { type IndexScan, planIndexScan } from './index-plan.js';
import { parseSubscription } from './parser.js';
import {
  type LookupRows,
  parseSemijoinRule,
  type SemijoinRule,
  SemijoinState,
  senderKey,
} from './semijoin-rule.js';
import { SqlError } from './sql-error.js';
import { columnsNeeded, decoder, readableTable, type SqlAuth } from './tables.js';
import { termCount } from './terms.js';
import { resolveProjectedColumn, type Scope, typeFilter, unresolvedVar } from './typecheck.js';

export type { SqlAuth } from './tables.js';

export interface CompiledQuery {
  /** The fragment text (for `SELECT * FROM *`, one `SELECT * FROM <table>` per table). */
  readonly sql: string;
  /** The one table whose rows it returns. */
  readonly table: TableSchema;
  /** Whether a BSATN row of `table` is in the result. */
  matches(row: Uint8Array): boolean;
  /** Where the initial rows can be read from instead of the whole table; `matches` still decides. */
  readonly indexScan?: IndexScan;
  /**
   * A join (`SELECT t.* FROM … JOIN …`): a row of `table` is in the result when it `matches` and some
   * row of the other table (`lookup`) passes that table's own filter with an equal join column.
   */
  readonly semijoin?: Semijoin;
}

/** SpacetimeDB's `is_subscribe_to_all_tables` (`subscription/query.rs`), on the trimmed text. */
const SELECT_ALL_TABLES = /^\s*\bSELECT\s+\*\s+FROM\s+\*\s*$/i;

/**
 * Compiles one query string into its fragments: one for a single-table query, one per readable
 * non-event table for `SELECT * FROM *`. Throws `SqlError` for anything devhost cannot evaluate exactly.
 * `checkTerms` sees the WHERE clause's comparison count once the text is parsed, before anything is
 * compiled (a host's limit: it throws to refuse), so the text is parsed once.
 */
export function compileQuery(
  sql: string,
  schema: ModuleSchema,
  auth: SqlAuth,
  checkTerms?: (terms: number) => void,
): CompiledQuery[] {
  const text = sql.trim();
  if (text === '') throw new SqlError('parse', 'Empty string');
  if (SELECT_ALL_TABLES.test(text)) {
    return schema.tables
      .filter((t) => !t.isEvent && (t.isPublic || auth.isOwner))
      .map((table) => ({ sql: `SELECT * FROM ${table.name}`, table, matches: () => true }));
  }
  const ast = parseSubscription(text);
  checkTerms?.(termCount(ast.filter));
  if (ast.join) return [compileJoin(sql, ast, schema, auth)];
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
  const decode = decoder(
    table,
    schema,
    columnsNeeded(
      table,
      (ast.filter ? fieldsOf(ast.filter) : []).map((f) => f.field),
    ),
  );
  const indexScan = ast.filter ? planIndexScan(ast.filter, table, ast.from.alias, schema) : undefined;
  return [{ sql, table, matches: (row) => filter(decode(row)), ...(indexScan ? { indexScan } : {}) }];
}

/** How one client's visibility of a table changed when a rule's lookup table changed. */
export interface VisibilityChange {
  readonly tableId: number;
  /** Join keys (see `keyOf`) whose rows became visible / invisible. */
  readonly gained: ReadonlySet<string>;
  readonly lost: ReadonlySet<string>;
  keyOf(row: Uint8Array): string;
  /** Whether the row was visible before the change. */
  wasVisible(row: Uint8Array): boolean;
}

/** A client's row-level-security filter: callable per row, and kept current across transactions. */
export interface Visibility {
  (tableId: number, row: Uint8Array): boolean;
  /** Tables whose changes can change what is visible (the lookup side of grant rules). */
  readonly dependsOn: ReadonlySet<number>;
  /** Call after a transaction touched `dependsOn`. */
  refresh(): VisibilityChange[];
}

/**
 * A schema's row-level-security rules compiled for one sender: the filter rules with `:sender` bound,
 * and the grant semijoins (whose per-client state `compileVisibility` builds). Immutable, so every
 * connection of that identity can share it (rule-cache.ts).
 */
export interface SenderRules {
  readonly filters: ReadonlyMap<number, readonly CompiledQuery[]>;
  readonly semijoins: readonly SemijoinRule[];
}

/** Compiles every rule of the schema for `sender`; throws `SqlError` for a rule devhost cannot apply. */
export function compileRules(schema: ModuleSchema, sender: bigint): SenderRules {
  const filters = new Map<number, CompiledQuery[]>();
  const semijoins: SemijoinRule[] = [];
  for (const rule of schema.rowLevelSecurity) {
    const semijoin = parseSemijoinRule(rule, schema);
    if (semijoin) {
      semijoins.push(semijoin);
      continue;
    }
    let compiled: CompiledQuery[];
    try {
      // A rule is part of the module, not the caller's query: it may name any table, private included.
      compiled = compileQuery(rule, schema, { sender, isOwner: true });
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
    // A rule's join would have to follow the other table for every client; only the grant shape does.
    if (q.semijoin)
      throw new SqlError(
        'unsupported',
        `row-level security rule \`${rule}\` joins tables other than as \`SELECT a.* FROM a JOIN b ON a.x = b.y WHERE b.z = :sender\`, which devhost does not evaluate`,
      );
    filters.set(q.table.tableId, [...(filters.get(q.table.tableId) ?? []), q]);
  }
  return { filters, semijoins };
}

/**
 * Row-level security (`clientVisibilityFilter`, spec §4.4): a non-owner sees a row of a table that
 * has rules iff at least one rule matches it. The owner sees everything. Rules are single-table
 * filters, or grant semijoins (`semijoin-rule.ts`), which need `rows` to read the grant table (an
 * index range of it when the rule's sender column leads an index).
 * `rules`: the sender's compiled rules when they are at hand (shared by its connections,
 * rule-cache.ts); compiled here otherwise. The grant state is this client's own either way.
 */
export function compileVisibility(
  schema: ModuleSchema,
  auth: SqlAuth,
  rows?: LookupRows,
  rules?: (schema: ModuleSchema, sender: bigint) => SenderRules,
): Visibility {
  const none: Visibility = Object.assign(() => true, { dependsOn: new Set<number>(), refresh: () => [] });
  if (auth.isOwner || schema.rowLevelSecurity.length === 0) return none;
  const { filters, semijoins } = (rules ?? compileRules)(schema, auth.sender);
  const joins = new Map<number, SemijoinState[]>();
  const sender = senderKey(auth.sender);
  for (const semijoin of semijoins) {
    if (!rows)
      throw new SqlError(
        'unsupported',
        `row-level security rule \`${semijoin.sql}\` needs the database to evaluate`,
      );
    const state = new SemijoinState(semijoin, sender, schema, rows);
    joins.set(semijoin.target.tableId, [...(joins.get(semijoin.target.tableId) ?? []), state]);
  }
  const byFilter = (tableId: number, row: Uint8Array) =>
    filters.get(tableId)?.some((q) => q.matches(row)) ?? false;
  const hasRules = (tableId: number) => filters.has(tableId) || joins.has(tableId);
  const visible = (tableId: number, row: Uint8Array) =>
    !hasRules(tableId) || byFilter(tableId, row) || (joins.get(tableId)?.some((j) => j.allows(row)) ?? false);
  const dependsOn = new Set([...joins.values()].flat().map((j) => j.rule.lookup.tableId));
  return Object.assign(visible, {
    dependsOn,
    refresh(): VisibilityChange[] {
      const changes: VisibilityChange[] = [];
      for (const [tableId, states] of joins) {
        for (const state of states) {
          const { gained, lost, before } = state.refresh();
          if (gained.size === 0 && lost.size === 0) continue;
          changes.push({
            tableId,
            gained,
            lost,
            keyOf: (row) => state.keyOf(row),
            wasVisible: (row) =>
              byFilter(tableId, row) ||
              before.has(state.keyOf(row)) ||
              states.some((o) => o !== state && o.allows(row)),
          });
        }
      }
      return changes;
    },
  });
}
