/**
 * One client's subscribed query sets and how they turn rows into wire messages, following
 * SpacetimeDB's v2 subscription manager (`core/src/subscription/module_subscription_manager.rs`,
 * `module_subscription_actor.rs`, `subscription/mod.rs::execute_plans`):
 * - initial/dropped rows: one `SingleTableRows` per query, skipping queries whose table is empty;
 * - a transaction: per query set, per table (in name order), one `TableUpdateRows` per query whose
 *   filtered delta is non-empty; event tables as `EventTable`.
 * Non-owners see only rows their row-level-security filter lets through.
 */
import type { CommittedTx, HostedDatabase, TableDelta } from '../contract.js';
import type { QuerySetUpdate, SingleTableRows, TableUpdateRows } from '../stdb-internal/client-api.js';
import type { TxEncodeMemo } from './broadcast-memo.js';
import { joinDelta, joinRows } from './join-rows.js';
import { bsatnRowList } from './row-list.js';
import type { RowVisibility, SubscriptionQuery, VisibilityChange } from './sql-port.js';

export class ClientQuerySets {
  private readonly sets = new Map<number, readonly SubscriptionQuery[]>();
  /** SpacetimeDB keeps per-client state from the first registration on; errors differ before that. */
  private registered = false;

  constructor(
    private readonly db: HostedDatabase,
    private readonly visible: RowVisibility | undefined,
  ) {}

  /** Queries registered over all sets (what the per-connection limit counts). */
  get queryCount(): number {
    let n = 0;
    for (const set of this.sets.values()) n += set.length;
    return n;
  }

  get hasRegistered(): boolean {
    return this.registered;
  }

  has(querySetId: number): boolean {
    return this.sets.has(querySetId);
  }

  /** Registers a set; identical SQL within one set counts once (`add_subscription_v2`). */
  add(querySetId: number, queries: readonly SubscriptionQuery[]): readonly SubscriptionQuery[] {
    this.registered = true;
    const seen = new Set<string>();
    const unique = queries.filter((q) => !seen.has(q.sql) && seen.add(q.sql));
    this.sets.set(querySetId, unique);
    return unique;
  }

  remove(querySetId: number): readonly SubscriptionQuery[] | undefined {
    const queries = this.sets.get(querySetId);
    this.sets.delete(querySetId);
    return queries;
  }

  clear(): void {
    this.sets.clear();
  }

  /** Rows that can match: the planned index range when there is one, else the table. */
  private candidates(query: SubscriptionQuery): Iterable<Uint8Array> {
    return query.indexScan ? this.db.scanIndexRange(query.indexScan) : this.db.scanTable(query.table.tableId);
  }

  /** Row-level security: whether this client may see a row at all. */
  private readonly maySee = (tableId: number, row: Uint8Array): boolean =>
    this.visible === undefined || this.visible(tableId, row);

  private passes(query: SubscriptionQuery, row: Uint8Array, memo?: TxEncodeMemo): boolean {
    return (memo ? memo.matches(query, row) : query.matches(row)) && this.maySee(query.table.tableId, row);
  }

  /** The rows `query` returns right now. */
  private resultRows(query: SubscriptionQuery): Uint8Array[] {
    const passes = (r: Uint8Array) => this.passes(query, r);
    if (query.semijoin) return joinRows(query, this.db, this.candidates(query), passes, this.maySee);
    // An exact index range holds only rows the query accepts: row-level security alone decides.
    if (query.indexScan?.exact) {
      const tableId = query.table.tableId;
      return [...this.candidates(query)].filter((r) => this.maySee(tableId, r));
    }
    return [...this.candidates(query)].filter(passes);
  }

  /** `execute_plans` skips plans reading an empty table (a join reads two). */
  private readsEmptyTable(query: SubscriptionQuery): boolean {
    const empty = (tableId: number) => this.db.scanTable(tableId)[Symbol.iterator]().next().done === true;
    return (
      empty(query.table.tableId) || (query.semijoin !== undefined && empty(query.semijoin.lookup.tableId))
    );
  }

  /** Current matching rows per query (for SubscribeApplied, or UnsubscribeApplied's dropped rows). */
  currentRows(queries: readonly SubscriptionQuery[]): SingleTableRows[] {
    const out: SingleTableRows[] = [];
    for (const query of queries) {
      // Skipped when a table it reads is empty, but not when it merely matches nothing.
      if (this.readsEmptyTable(query)) continue;
      out.push({ table: query.table.name, rows: bsatnRowList(this.resultRows(query)) });
    }
    return out;
  }

  /** Matching rows for a one-off query: one entry per query, empty or not (`one_off_query_v2`). */
  queryRows(queries: readonly SubscriptionQuery[]): SingleTableRows[] {
    return queries.map((query) => ({ table: query.table.name, rows: bsatnRowList(this.resultRows(query)) }));
  }

  /**
   * What this client sees of a committed transaction; empty when none of its sets is affected.
   * `memo` shares the encoded row lists with the other clients of the same broadcast.
   */
  updatesFor(tx: CommittedTx, memo?: TxEncodeMemo): QuerySetUpdate[] {
    const rowList = memo ? (rows: readonly Uint8Array[]) => memo.rowList(rows) : bsatnRowList;
    const deltas = new Map<number, TableDelta>();
    for (const d of tx.deltas) if (d.inserts.length > 0 || d.deletes.length > 0) deltas.set(d.tableId, d);
    // A grant table changed: rows of the tables it guards appear or disappear for this client. The
    // visibility state follows every transaction, subscribed or not (called once per transaction).
    const changes = new Map<number, VisibilityChange[]>();
    const vis = this.visible;
    if (vis && vis.dependsOn.size > 0 && [...deltas.keys()].some((id) => vis.dependsOn.has(id))) {
      for (const c of vis.refresh()) changes.set(c.tableId, [...(changes.get(c.tableId) ?? []), c]);
    }
    if (this.sets.size === 0 || deltas.size === 0) return [];

    const updates: QuerySetUpdate[] = [];
    for (const id of [...this.sets.keys()].sort((a, b) => a - b)) {
      const byTable = new Map<string, TableUpdateRows[]>();
      const add = (query: SubscriptionQuery, rows: TableUpdateRows) => {
        const list = byTable.get(query.table.name);
        if (list) list.push(rows);
        else byTable.set(query.table.name, [rows]);
      };
      for (const query of this.sets.get(id) ?? []) {
        if (query.semijoin) {
          if (!deltas.has(query.table.tableId) && !deltas.has(query.semijoin.lookup.tableId)) continue;
          const passes = (r: Uint8Array) => this.passes(query, r);
          const { inserts, deletes } = joinDelta(query, this.db, deltas, passes, this.maySee);
          if (inserts.length === 0 && deletes.length === 0) continue;
          add(query, {
            tag: 'PersistentTable',
            value: { inserts: rowList(inserts), deletes: rowList(deletes) },
          });
          continue;
        }
        const delta = deltas.get(query.table.tableId);
        const changed = changes.get(query.table.tableId);
        if (!delta && !changed) continue;
        const inserts = (delta?.inserts ?? []).filter((r) => this.passes(query, r, memo));
        // A deleted row was sent to the client if it was visible before this transaction.
        const wasVisible = (r: Uint8Array) =>
          changed
            ? changed.some((c) => c.wasVisible(r))
            : this.visible === undefined || this.visible(query.table.tableId, r);
        const deletes = query.table.isEvent
          ? []
          : (delta?.deletes ?? []).filter(
              (r) => (memo ? memo.matches(query, r) : query.matches(r)) && wasVisible(r),
            );
        if (changed && !query.table.isEvent) {
          const inDelta = new Set(
            [...(delta?.inserts ?? []), ...(delta?.deletes ?? [])].map((r) =>
              Buffer.from(r).toString('latin1'),
            ),
          );
          for (const row of this.db.scanTable(query.table.tableId)) {
            if (inDelta.has(Buffer.from(row).toString('latin1')) || !query.matches(row)) continue;
            const nowVisible = this.passes(query, row);
            const before = changed.some((c) => c.wasVisible(row));
            if (nowVisible && !before) inserts.push(row);
            else if (!nowVisible && before) deletes.push(row);
          }
        }
        if (inserts.length === 0 && deletes.length === 0) continue;
        const rows: TableUpdateRows = query.table.isEvent
          ? { tag: 'EventTable', value: { events: rowList(inserts) } }
          : {
              tag: 'PersistentTable',
              value: { inserts: rowList(inserts), deletes: rowList(deletes) },
            };
        add(query, rows);
      }
      if (byTable.size === 0) continue;
      const tables = [...byTable.keys()]
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .map((tableName) => ({ tableName, rows: byTable.get(tableName) ?? [] }));
      updates.push({ querySetId: { id }, tables });
    }
    return updates;
  }
}
