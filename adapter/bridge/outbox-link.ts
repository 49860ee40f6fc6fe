/**
 * The bridge worker's own SpacetimeDB connection: it subscribes to the pending outbox rows and the
 * deliveries of its target and records what relays answered. This file is the only place the bridge
 * touches the generated bindings; the rest of the worker sees `PendingRow`s and `RecordedDelivery`s.
 *
 * It reconnects by itself with capped, jittered backoff (`outbox-state.ts`). A worker identity needs
 * a bridge-worker grant before its subscription can see anything (row-level security), so the grant
 * hook runs between connecting and subscribing.
 */
import type { Logger } from 'pino';
import { DbConnection } from '../../module/bindings/index.js';
import { backoffDelay } from '../../shared/backoff.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import { connectDeadline, DEFAULT_CONNECT_TIMEOUT_MS } from '../spacetime/connect-deadline.js';
import type { PendingRow, RecordedDelivery } from './delivery-plan.js';
import { INITIAL_OUTBOX_STATE, nextOutboxState, type OutboxEvent, type OutboxState } from './outbox-state.js';

export interface DeliveryReport {
  readonly outboxId: bigint;
  readonly bridgeKey: string;
  readonly relay: string;
  readonly accepted: boolean;
  readonly message: string;
  readonly eventId: string;
}

export interface OutboxListener {
  row(row: PendingRow): void;
  rowGone(outboxId: bigint): void;
  delivery(outboxId: bigint, relay: string, d: RecordedDelivery): void;
  deliveryGone(outboxId: bigint, relay: string): void;
  /** After every state change; `live` means the subscription is applied and records can be made. */
  state(state: OutboxState): void;
}

export interface OutboxLinkOptions {
  readonly uri: string;
  readonly database: string;
  /** The worker identity's token; absent: the host mints an identity, kept for reconnects. */
  readonly token?: string;
  readonly target: string;
  readonly logger: Logger;
  readonly listener: OutboxListener;
  /** Runs once the identity is known and before subscribing (grants the worker its target). */
  readonly beforeSubscribe?: (identityHex: string) => Promise<void>;
  readonly callTimeoutMs?: number;
  /** One connection attempt's bound (`SPACETIMEDB_CONNECT_TIMEOUT_MS`, ../spacetime/connect-deadline.ts). */
  readonly connectTimeoutMs?: number;
}

type OutboxRow = Parameters<Parameters<DbConnection['db']['bridgeOutbox']['onInsert']>[0]>[1];
type DeliveryRow = Parameters<Parameters<DbConnection['db']['bridgeDelivery']['onInsert']>[0]>[1];

function toPendingRow(r: OutboxRow): PendingRow {
  return {
    outboxId: r.outboxId,
    maxAttempts: r.maxAttempts,
    entry: {
      bridgeKey: r.bridgeKey,
      streamId: r.streamId,
      seq: r.seq,
      kind: r.kind,
      payload: r.payload,
      createdAtMicros: r.createdAt.microsSinceUnixEpoch,
    },
  };
}

export class OutboxLink {
  private state: OutboxState = INITIAL_OUTBOX_STATE;
  private conn: DbConnection | undefined;
  private token: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  identityHex: string | undefined;

  constructor(private readonly o: OutboxLinkOptions) {
    this.token = o.token;
  }

  get current(): OutboxState {
    return this.state;
  }

  start(): void {
    ensureWebSocket();
    this.open(this.state);
  }

  stop(): void {
    this.apply({ type: 'stop' });
  }

  /** Records relay answers in one transaction; throws the reducer's error (or a timeout). */
  async record(relays: readonly string[], reports: readonly DeliveryReport[]): Promise<void> {
    const conn = this.conn;
    if (this.state.tag !== 'live' || !conn) throw new Error('not connected to SpacetimeDB');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        conn.reducers.recordBridgeDeliveries({
          target: this.o.target,
          relays: [...relays],
          reports: reports.map((r) => ({
            bridgeKey: r.bridgeKey,
            relay: r.relay,
            accepted: r.accepted,
            message: r.message,
            eventId: r.eventId,
          })),
        }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('record_bridge_deliveries timed out')),
            this.o.callTimeoutMs ?? 30_000,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private apply(event: OutboxEvent): void {
    const before = this.state;
    const after = nextOutboxState(before, event);
    if (after === before) return;
    this.state = after;
    if (after.tag === 'backoff') {
      this.drop();
      const delay = backoffDelay(after.attempt, { baseMs: 200, capMs: 10_000 });
      this.o.logger.warn({ why: after.why, retryInMs: delay }, 'bridge lost SpacetimeDB');
      this.retryTimer = setTimeout(() => this.apply({ type: 'retry' }), delay);
    }
    if (after.tag === 'connecting') this.open(after);
    if (after.tag === 'stopped') {
      clearTimeout(this.retryTimer);
      this.drop();
    }
    this.o.listener.state(after);
  }

  private drop(): void {
    const conn = this.conn;
    this.conn = undefined;
    if (conn?.isActive) conn.disconnect();
  }

  private open(state: OutboxState): void {
    if (state.tag !== 'connecting') return;
    const { generation } = state;
    const lost = (why: string) => this.apply({ type: 'lost', generation, why });
    // A hung attempt is given up into the same `lost` (../spacetime/connect-deadline.ts).
    const deadline = connectDeadline(this.o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, (why) => {
      lost(why);
      conn.disconnect();
    });
    const conn = DbConnection.builder()
      .withUri(this.o.uri)
      .withDatabaseName(this.o.database)
      .withToken(this.token)
      .withCompression('none')
      .onConnect((c, identity, token) => {
        if (!deadline.settle()) {
          c.disconnect();
          return;
        }
        this.token = token;
        this.identityHex = identity.toHexString();
        void (async () => {
          try {
            await this.o.beforeSubscribe?.(this.identityHex ?? '');
          } catch (e) {
            lost(`granting the worker its target failed: ${(e as Error).message}`);
            return;
          }
          // Re-check after the await: the connection may have been dropped or replaced meanwhile.
          if (this.state.tag !== 'connecting' || this.state.generation !== generation) return;
          this.subscribe(c as DbConnection, generation, lost);
        })();
      })
      .onConnectError((_ctx, err) => deadline.settle() && lost(`connect failed: ${err.message}`))
      .onDisconnect((_ctx, err) => deadline.settle() && lost(err ? err.message : 'disconnected'))
      .build();
    this.conn = conn;
    this.listen(conn, generation);
  }

  private subscribe(conn: DbConnection, generation: number, lost: (why: string) => void): void {
    const target = this.o.target; // validated: [A-Za-z0-9._:-] only, safe inside a SQL literal
    conn
      .subscriptionBuilder()
      .onApplied(() => this.apply({ type: 'subscribed', generation }))
      .onError((ctx) => lost(`subscription failed: ${String(ctx.event)}`))
      .subscribe([
        `SELECT * FROM bridge_outbox WHERE status = 'pending' AND target = '${target}'`,
        `SELECT * FROM bridge_delivery WHERE target = '${target}'`,
      ]);
  }

  private listen(conn: DbConnection, generation: number): void {
    const current = () =>
      this.state.tag !== 'stopped' && 'generation' in this.state && this.state.generation === generation;
    const l = this.o.listener;
    const delivery = (d: DeliveryRow) =>
      l.delivery(d.outboxId, d.relay, { status: d.status, attempts: d.attempts });
    conn.db.bridgeOutbox.onInsert((_c, r) => current() && l.row(toPendingRow(r)));
    conn.db.bridgeOutbox.onUpdate((_c, _old, r) => current() && l.row(toPendingRow(r)));
    conn.db.bridgeOutbox.onDelete((_c, r) => current() && l.rowGone(r.outboxId));
    conn.db.bridgeDelivery.onInsert((_c, d) => current() && delivery(d));
    conn.db.bridgeDelivery.onUpdate((_c, _old, d) => current() && delivery(d));
    conn.db.bridgeDelivery.onDelete((_c, d) => current() && l.deliveryGone(d.outboxId, d.relay));
  }
}
