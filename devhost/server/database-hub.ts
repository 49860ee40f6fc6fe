/**
 * The connected clients of one database and the broadcast of its commits: every committed
 * transaction goes, as a `TransactionUpdate`, to each client whose query sets it touches — except the
 * client whose reducer produced it, which gets its update inside its `ReducerResult` instead
 * (`module_subscription_manager.rs::send_v2_computed_queries`).
 */
import type { CommittedTx, HostedDatabase } from '../contract.js';
import type { QuerySetUpdate } from '../stdb-internal/client-api.js';
import { TxEncodeMemo } from './broadcast-memo.js';
import { transactionUpdate } from './server-messages.js';
import { QueryCache, RuleCache } from './sql-port.js';

export interface HubClient {
  readonly identity: bigint;
  readonly connectionId: bigint;
  updatesFor(tx: CommittedTx, memo?: TxEncodeMemo): QuerySetUpdate[];
  send(body: Uint8Array, txOffset?: bigint): void;
}

const clientKey = (c: { identity: bigint; connectionId: bigint }): string =>
  `${c.identity.toString(16)}/${c.connectionId.toString(16)}`;

export class DatabaseHub {
  /** By (identity, connection id), SpacetimeDB's client key: a client-chosen connection id cannot displace another identity's. */
  private readonly clients = new Map<string, HubClient>();
  private committedOffset: bigint | undefined;
  private readonly detach: () => void;
  /** Row-level-security rules compiled per identity, shared by its connections (sql/rule-cache.ts). */
  readonly visibilityRules = new RuleCache();
  /** Clients' compiled queries per (identity, text), reused when one subscribes to the same text again (sql/query-cache.ts). */
  readonly queries = new QueryCache();

  constructor(
    readonly db: HostedDatabase,
    private readonly onListenerError: (error: unknown) => void,
  ) {
    this.detach = db.onCommit((tx) => this.broadcast(tx));
  }

  /**
   * Offset of the state a read reflects now (the newest commit, or after a rollback the offset it went
   * back to); undefined until the first
   * commit after the hub attached (reads then carry no offset and are not held).
   */
  get lastOffset(): bigint | undefined {
    return this.committedOffset;
  }

  get size(): number {
    return this.clients.size;
  }

  /** (identity, connection id) pairs with a connection from its connect transaction to its disconnect one. */
  private readonly claimed = new Set<string>();

  /**
   * Claims the pair for a new socket, before its connect transaction; false when a live socket holds
   * it (the newcomer is refused, the live one kept). Release it after the disconnect transaction.
   */
  claim(caller: { identity: bigint; connectionId: bigint }): boolean {
    const key = clientKey(caller);
    if (this.claimed.has(key)) return false;
    this.claimed.add(key);
    return true;
  }

  release(caller: { identity: bigint; connectionId: bigint }): void {
    this.claimed.delete(clientKey(caller));
  }

  add(client: HubClient): void {
    this.clients.set(clientKey(client), client);
  }

  remove(client: HubClient): void {
    const key = clientKey(client);
    if (this.clients.get(key) === client) this.clients.delete(key);
  }

  close(): void {
    this.detach();
    this.clients.clear();
  }

  private broadcast(tx: CommittedTx): void {
    // Offsets only go back with the compensating transaction of a rollback (the log ran out of
    // space): reads from then on reflect the rolled-back state, durable at that offset. Keeping the
    // higher offset would hold them for an offset the log refuses to promise while it is stalled.
    this.committedOffset = tx.offset;
    // Clients that see the same rows get the same bytes: encoded once (broadcast-memo.ts).
    const memo = new TxEncodeMemo(tx);
    for (const client of this.clients.values()) {
      const isCaller =
        tx.caller !== undefined &&
        tx.caller.connectionId === client.connectionId &&
        tx.caller.identity === client.identity;
      if (isCaller) continue;
      try {
        const querySets = client.updatesFor(tx, memo);
        if (querySets.length > 0)
          client.send(
            memo.body(querySets, () => transactionUpdate(querySets)),
            tx.offset,
          );
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
