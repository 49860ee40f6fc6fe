/**
 * The adapter's one connection to SpacetimeDB, through the unmodified SDK and the generated bindings.
 * Appends go out one batch at a time (the module orders them anyway, and one in flight keeps each
 * batch's receipts unambiguous); the answer arrives only after the transaction committed, and with
 * confirmed reads only once it is durable. The connection is re-established with capped backoff.
 */
import type { Logger } from 'pino';
import { Identity } from 'spacetimedb';
import { DbConnection } from '../../module/bindings/index.js';
import { backoffDelay } from '../../shared/backoff.js';
import { isSyncError, SyncError, unavailable } from '../../shared/errors/sync-error.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import type { EventInput } from '../envelope/to-event.js';
import type { AppendReceipt, ReceiptStatus, ReducerSink, SourceCursor } from '../ports/reducer-sink.js';

export type { AppendReceipt, ReceiptStatus, SourceCursor } from '../ports/reducer-sink.js';

export interface StreamHead {
  readonly head: bigint;
  readonly lowWatermark: bigint;
  readonly epoch: bigint;
  readonly lastSourceSeq: bigint;
  readonly sourceGapMissing: bigint;
  readonly updatedAtMicros: bigint;
  /** Retention policy: newest events kept (0 = keep everything). */
  readonly retainMinEvents: bigint;
}

export interface WriterOptions {
  readonly uri: string;
  readonly database: string;
  readonly token?: string;
  readonly logger: Logger;
  /** A call that has not answered by then is treated as SpacetimeDB being unavailable. */
  readonly callTimeoutMs?: number;
  /** Each time a connection is established and subscribed, reconnects included (for metrics). */
  readonly onConnected?: () => void;
}

/**
 * A rejected reducer call as a SyncError: the module's typed refusal with its detail; anything else
 * (a crash, an internal error) as SpacetimeDB being unavailable, retried.
 */
export function reducerError(e: unknown): SyncError {
  const err = SyncError.from(e);
  return err.reason === 'unavailable' && !err.detail ? unavailable('spacetimedb', err.message, e) : err;
}

type StreamRow = NonNullable<ReturnType<DbConnection['db']['syncStream']['stream_id']['find']>>;

function toStreamHead(s: StreamRow): StreamHead {
  return {
    head: s.headSeq,
    lowWatermark: s.lowWatermark,
    epoch: s.epoch,
    lastSourceSeq: s.lastSourceSeq,
    sourceGapMissing: s.sourceGapMissing,
    updatedAtMicros: s.updatedAt.microsSinceUnixEpoch,
    retainMinEvents: s.retainMinEvents,
  };
}

export class SpacetimeWriter implements ReducerSink {
  private conn: DbConnection | undefined;
  private ready: Promise<void>;
  private markReady: () => void = () => {};
  private attempt = 0;
  private closed = false;
  private chain: Promise<unknown> = Promise.resolve();
  /** Receipts of the call in flight, by position in its batch. */
  private collecting: Map<number, AppendReceipt> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Fails the call in flight when the connection drops: its answer will never come on this socket. */
  private failInFlight: ((e: SyncError) => void) | undefined;
  private lastError: string | undefined;
  private identityHex: string | undefined;

  private constructor(private readonly o: WriterOptions) {
    this.ready = new Promise((r) => {
      this.markReady = r;
    });
  }

  static async connect(options: WriterOptions, waitMs = 30_000): Promise<SpacetimeWriter> {
    ensureWebSocket();
    const w = new SpacetimeWriter(options);
    w.open();
    await Promise.race([
      w.ready,
      new Promise((_, reject) =>
        setTimeout(
          () => reject(unavailable('spacetimedb', `no SpacetimeDB at ${options.uri} within ${waitMs} ms`)),
          waitMs,
        ),
      ),
    ]);
    return w;
  }

  get isConnected(): boolean {
    return this.conn?.isActive === true;
  }

  /** For operators: where the link stands, why it last dropped, and the identity it writes as. */
  get connection(): {
    state: 'connected' | 'reconnecting' | 'closed';
    lastError?: string;
    identity?: string;
  } {
    const state = this.closed ? 'closed' : this.isConnected ? 'connected' : 'reconnecting';
    return {
      state,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.identityHex !== undefined ? { identity: this.identityHex } : {}),
    };
  }

  private open(): void {
    if (this.closed) return;
    const conn = DbConnection.builder()
      .withUri(this.o.uri)
      .withDatabaseName(this.o.database)
      .withToken(this.o.token)
      .withConfirmedReads(true)
      .withCompression('none')
      .onConnect((c, identity) => {
        this.identityHex = identity.toHexString();
        c.subscriptionBuilder()
          .onApplied(() => {
            this.attempt = 0;
            this.conn = conn;
            this.o.logger.info({ uri: this.o.uri, database: this.o.database }, 'connected to SpacetimeDB');
            this.o.onConnected?.();
            this.markReady();
          })
          .onError((ctx) => this.lost(conn, `subscription failed: ${String(ctx.event)}`))
          .subscribe([
            'SELECT * FROM sync_stream',
            'SELECT * FROM source_cursor',
            'SELECT * FROM append_receipt',
          ]);
      })
      .onConnectError((_ctx, err) => this.lost(conn, `connect failed: ${err.message}`))
      .onDisconnect((_ctx, err) => this.lost(conn, err ? err.message : 'disconnected'))
      .build();
    conn.db.appendReceipt.onInsert((ctx, r) => {
      // Only our own call's result is a Reducer event; other writers' receipts arrive as Transaction.
      if (ctx.event.tag !== 'Reducer') return;
      this.collecting?.set(r.batchIndex, {
        stream: r.streamId,
        key: r.idempotencyKey,
        seq: r.seq,
        status: r.status as ReceiptStatus,
      });
    });
  }

  private lost(conn: DbConnection, why: string): void {
    if (this.closed) return;
    if (this.conn === conn) this.conn = undefined;
    this.lastError = why;
    // Whether it committed is unknown; the retry is safe because appends are idempotent by key.
    this.failInFlight?.(unavailable('spacetimedb', `connection lost during the call: ${why}`));
    if (this.reconnectTimer) return;
    this.ready = new Promise((r) => {
      this.markReady = r;
    });
    const delay = backoffDelay(this.attempt++, { baseMs: 100, capMs: 5_000 });
    this.o.logger.warn({ why, retryInMs: delay }, 'SpacetimeDB connection lost');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.open();
    }, delay);
  }

  /** Resolves when connected (or rejects after `ms`). */
  async waitConnected(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ready,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(unavailable('spacetimedb', 'not connected')), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One stream's head, from the writer's own subscription (an index lookup, for per-request use). */
  stream(streamId: string): StreamHead | undefined {
    const s = this.conn?.db.syncStream.stream_id.find(streamId);
    return s ? toStreamHead(s) : undefined;
  }

  /**
   * Appends `events` atomically (and moves the Kafka cursor in the same transaction). Resolves with
   * one receipt per event once committed; throws a SyncError (the module's refusal or `unavailable`).
   */
  appendBatch(events: readonly EventInput[], cursor?: SourceCursor): Promise<AppendReceipt[]> {
    const run = this.chain.then(() => this.call(events, cursor));
    this.chain = run.catch(() => {});
    return run;
  }

  private async call(events: readonly EventInput[], cursor?: SourceCursor): Promise<AppendReceipt[]> {
    const conn = this.conn;
    if (!conn?.isActive) throw unavailable('spacetimedb', 'not connected to SpacetimeDB');
    const receipts = new Map<number, AppendReceipt>();
    this.collecting = receipts;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        conn.reducers.appendSyncEvents({ events: [...events], cursor }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(unavailable('spacetimedb', 'append timed out')),
            this.o.callTimeoutMs ?? 30_000,
          );
        }),
        // `lost()` rejects this when the socket drops: no answer can come on it any more.
        new Promise((_, reject) => {
          this.failInFlight = reject;
        }),
      ]);
    } catch (e) {
      throw isSyncError(e) ? e : reducerError(e);
    } finally {
      clearTimeout(timer);
      this.failInFlight = undefined;
      this.collecting = undefined;
    }
    return events.map((e, i) => {
      const r = receipts.get(i);
      if (!r || r.stream !== e.streamId || r.key !== e.idempotencyKey) {
        throw unavailable(
          'spacetimedb',
          `no receipt for ${e.streamId}/${e.idempotencyKey} in the reducer result`,
        );
      }
      return r;
    });
  }

  /**
   * Grants this writer's own identity read access to `streams` (the shadow and the probe read events
   * as the writer; row-level security shows a writer only the events it was granted).
   */
  async grantSelfRead(streams: readonly string[]): Promise<void> {
    const conn = this.conn;
    if (!conn?.isActive || this.identityHex === undefined)
      throw unavailable('spacetimedb', 'not connected to SpacetimeDB');
    const reader = Identity.fromString(this.identityHex);
    for (const streamId of streams) {
      try {
        await conn.reducers.grantStreamRead({ reader, streamId });
      } catch (e) {
        throw reducerError(e);
      }
    }
  }

  /** The next Kafka offset SpacetimeDB holds for a partition (the exactly-once anchor). */
  cursor(group: string, topic: string, partition: number): bigint | undefined {
    if (!this.conn) return undefined;
    for (const c of this.conn.db.sourceCursor.iter()) {
      if (c.consumerGroup === group && c.topic === topic && c.partition === partition) return c.nextOffset;
    }
    return undefined;
  }

  streams(): Map<string, StreamHead> {
    const out = new Map<string, StreamHead>();
    if (!this.conn) return out;
    for (const s of this.conn.db.syncStream.iter()) out.set(s.streamId, toStreamHead(s));
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.chain;
    this.conn?.disconnect();
    this.conn = undefined;
  }
}
