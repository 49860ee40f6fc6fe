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

  private passes(query: SubscriptionQuery, row: Uint8Array): boolean {
    return query.matches(row) && (this.visible === undefined || this.visible(query.table.tableId, row));
  }

  /** Current matching rows per query (for SubscribeApplied, or UnsubscribeApplied's dropped rows). */
  currentRows(queries: readonly SubscriptionQuery[]): SingleTableRows[] {
    const out: SingleTableRows[] = [];
    for (const query of queries) {
      // `execute_plans` skips plans reading an empty table, but not plans that merely match nothing.
      if (this.db.scanTable(query.table.tableId)[Symbol.iterator]().next().done) continue;
      out.push({
        table: query.table.name,
        rows: bsatnRowList([...this.candidates(query)].filter((r) => this.passes(query, r))),
      });
    }
    return out;
  }

  /** Matching rows for a one-off query: one entry per query, empty or not (`one_off_query_v2`). */
  queryRows(queries: readonly SubscriptionQuery[]): SingleTableRows[] {
    return queries.map((query) => ({
      table: query.table.name,
      rows: bsatnRowList([...this.candidates(query)].filter((r) => this.passes(query, r))),
    }));
  }

  /** What this client sees of a committed transaction; empty when none of its sets is affected. */
  updatesFor(tx: CommittedTx): QuerySetUpdate[] {
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
      for (const query of this.sets.get(id) ?? []) {
        const delta = deltas.get(query.table.tableId);
        const changed = changes.get(query.table.tableId);
        if (!delta && !changed) continue;
        const inserts = (delta?.inserts ?? []).filter((r) => this.passes(query, r));
        // A deleted row was sent to the client if it was visible before this transaction.
        const wasVisible = (r: Uint8Array) =>
          changed
            ? changed.some((c) => c.wasVisible(r))
            : this.visible === undefined || this.visible(query.table.tableId, r);
        const deletes = query.table.isEvent
          ? []
          : (delta?.deletes ?? []).filter((r) => query.matches(r) && wasVisible(r));
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
          ? { tag: 'EventTable', value: { events: bsatnRowList(inserts) } }
          : {
              tag: 'PersistentTable',
              value: { inserts: bsatnRowList(inserts), deletes: bsatnRowList(deletes) },
            };
        const list = byTable.get(query.table.name);
        if (list) list.push(rows);
        else byTable.set(query.table.name, [rows]);
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
