/**
 * Encoding one committed transaction once for every subscriber that sees the same thing. SpacetimeDB
 * evaluates a query once per query shape and encodes its update once for all clients subscribed to
 * it (`module_subscription_manager.rs`, the per-query `UpdatesRelValue` shared by `send_v2_computed_queries`);
 * devhost filters per client (row-level security, per-client query sets) but need not *encode* per
 * client: two clients whose filtered updates hold the same rows of the transaction, under the same
 * query set ids and tables, get byte-identical messages.
 *
 * Rows are recognised by identity (the transaction's own `Uint8Array`s, by position in its deltas),
 * so equal keys mean equal bytes. A row list holding any other row (a join's lookup, a visibility
 * change's table scan) has no key and is encoded for its client alone.
 *
 * A query's own filter is evaluated once per query text and row, too, when the text cannot depend on
 * who asks (no `:sender`): many clients subscribing the same query need one verdict per row, not one
 * each. Row-level security stays per client.
 */
import type { CommittedTx } from '../contract.js';
import type { BsatnRowList, QuerySetUpdate } from '../stdb-internal/client-api.js';
import { bsatnRowList } from './row-list.js';

/** Query text whose meaning depends on the subscriber (compile.ts binds `:sender` to the caller). */
const PER_CALLER = /:sender/i;

export class TxEncodeMemo {
  private readonly verdicts = new Map<string, Map<Uint8Array, boolean>>();
  private index: Map<Uint8Array, number> | undefined;
  private readonly lists = new Map<string, BsatnRowList>();
  private readonly listKeys = new WeakMap<BsatnRowList, string>();
  private readonly bodies = new Map<string, Uint8Array>();

  constructor(private readonly tx: CommittedTx) {}

  /** Position of each row of the transaction's deltas (built on first use). */
  private positions(): Map<Uint8Array, number> {
    if (this.index) return this.index;
    const index = new Map<Uint8Array, number>();
    let i = 0;
    for (const d of this.tx.deltas) {
      for (const r of d.inserts) if (!index.has(r)) index.set(r, i++);
      for (const r of d.deletes) if (!index.has(r)) index.set(r, i++);
    }
    this.index = index;
    return index;
  }

  /** `query.matches(row)`, shared by every subscriber of the same query text in this transaction. */
  matches(query: { readonly sql: string; matches(row: Uint8Array): boolean }, row: Uint8Array): boolean {
    if (PER_CALLER.test(query.sql)) return query.matches(row);
    let byRow = this.verdicts.get(query.sql);
    if (!byRow) {
      byRow = new Map();
      this.verdicts.set(query.sql, byRow);
    }
    let verdict = byRow.get(row);
    if (verdict === undefined) {
      verdict = query.matches(row);
      byRow.set(row, verdict);
    }
    return verdict;
  }

  /** The row list of `rows`, shared with every earlier call for the same rows of this transaction. */
  rowList(rows: readonly Uint8Array[]): BsatnRowList {
    const index = this.positions();
    let key = '';
    for (const r of rows) {
      const at = index.get(r);
      if (at === undefined) return bsatnRowList(rows);
      key += `${at},`;
    }
    let list = this.lists.get(key);
    if (!list) {
      list = bsatnRowList(rows);
      this.lists.set(key, list);
      this.listKeys.set(list, key);
    }
    return list;
  }

  /**
   * The encoded message for `updates`: encoded once per distinct update (same query set ids, tables,
   * kinds and shared row lists), by `encode` for the first client that needs it.
   */
  body(updates: readonly QuerySetUpdate[], encode: () => Uint8Array): Uint8Array {
    const key = this.keyOf(updates);
    if (key === undefined) return encode();
    let body = this.bodies.get(key);
    if (!body) {
      body = encode();
      this.bodies.set(key, body);
    }
    return body;
  }

  private keyOf(updates: readonly QuerySetUpdate[]): string | undefined {
    let key = '';
    const list = (l: BsatnRowList): string | undefined => this.listKeys.get(l);
    for (const u of updates) {
      key += `q${u.querySetId.id}`;
      for (const t of u.tables) {
        key += `|t${t.tableName}`;
        for (const rows of t.rows) {
          if (rows.tag === 'EventTable') {
            const k = list(rows.value.events);
            if (k === undefined) return undefined;
            key += `|e${k}`;
          } else {
            const [ins, del] = [list(rows.value.inserts), list(rows.value.deletes)];
            if (ins === undefined || del === undefined) return undefined;
            key += `|p${ins}/${del}`;
          }
        }
      }
    }
    return key;
  }
}
