/**
 * The adapter's one connection to SpacetimeDB, through the unmodified SDK and the generated bindings.
 * Appends are pipelined: up to `maxInFlight` reducer calls are in flight on the connection at once,
 * sent in the order appendBatch was called, which is the order SpacetimeDB runs and commits them
 * (./call-window.ts). Each call's receipts are told apart by its own arguments object, which the SDK
 * hands back on the reducer event. The answer arrives only after the transaction committed, and with
 * confirmed reads only once it is durable. The connection's lifecycle is ./writer-machine.ts: this
 * class feeds it the SDK's callbacks (each naming its socket) and carries out the effects it returns.
 */
import type { Logger } from 'pino';
import { Identity } from 'spacetimedb';
import type { DbConnection } from '../../module/bindings/index.js';
import { backoffDelay } from '../../shared/backoff.js';
import { isSyncError, unavailable } from '../../shared/errors/sync-error.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import type { EventInput } from '../envelope/to-event.js';
import type { AppendReceipt, ReceiptStatus, ReducerSink, SourceCursor } from '../ports/reducer-sink.js';
import type { StreamHead } from '../ports/stream-head.js';
import { CallWindow, DEFAULT_MAX_IN_FLIGHT } from './call-window.js';
import { SpacetimeRefusedError } from './connect-refusal.js';
import { reducerError } from './reducer-error.js';
import { RefusalWatch } from './refusal-watch.js';
import { openSdkSocket } from './sdk-socket.js';
import {
  INITIAL_WRITER,
  INITIAL_WRITER_EFFECTS,
  reportedWriterState,
  transitionWriter,
  type WriterEffect,
  type WriterEvent,
  type WriterKind,
  type WriterState,
} from './writer-machine.js';
import { kafkaCursor, streamHead, streamHeads } from './writer-tables.js';

export type { AppendReceipt, ReceiptStatus, SourceCursor } from '../ports/reducer-sink.js';
export type { StreamHead } from '../ports/stream-head.js';
export { DEFAULT_MAX_IN_FLIGHT } from './call-window.js';
export { isUnexplainedFailure, reducerError } from './reducer-error.js';

/** A pipelining Connect publisher's name and its number for one call. */
export interface PublisherSeq {
  readonly publisherId: string;
  readonly publisherSeq: bigint;
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
  /** Reducer calls in flight at once (`SPACETIMEDB_MAX_IN_FLIGHT`); default DEFAULT_MAX_IN_FLIGHT. */
  readonly maxInFlight?: number;
  /** One connection attempt's bound (`SPACETIMEDB_CONNECT_TIMEOUT_MS`, ./connect-deadline.ts). */
  readonly connectTimeoutMs?: number;
}

export class SpacetimeWriter implements ReducerSink {
  /** The connection lifecycle (./writer-machine.ts); changed only through `send`. */
  private state: WriterState = INITIAL_WRITER;
  /** The current socket's connection (state.socket's); its tables are read only while `connected`. */
  private conn: DbConnection | undefined;
  private socketOf = new WeakMap<DbConnection, number>();
  /** Callers of waitConnected, woken by `mark_ready`, failed by close() or a permanent refusal. */
  private readonly waiters = new Set<{ ready: () => void; closed: (e: Error) => void }>();
  /** The appends in flight and waiting for a place, in call order (./call-window.ts). */
  private readonly window: CallWindow;
  private draining: Promise<void> | undefined;
  /** Receipts of each call in flight, by position in its batch, keyed by the call's arguments object. */
  private readonly collecting = new WeakMap<object, Map<number, AppendReceipt>>();
  private retryTimer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private identityHex: string | undefined;
  /** Whether SpacetimeDB refused the very first connection for good (./refusal-watch.ts). */
  private readonly refusals: RefusalWatch;

  private constructor(private readonly o: WriterOptions) {
    this.window = new CallWindow(o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.refusals = new RefusalWatch(o, (refused) => {
      for (const w of this.waiters) w.closed(refused);
    });
  }

  /**
   * A writer that starts connecting now and keeps retrying with capped backoff however long
   * SpacetimeDB is away; `waitConnected` tells when it is there (or that it refused for good).
   */
  static open(options: WriterOptions): SpacetimeWriter {
    ensureWebSocket();
    const w = new SpacetimeWriter(options);
    for (const f of INITIAL_WRITER_EFFECTS) w.run(f);
    return w;
  }

  /** Connects (or rejects after `waitMs`, closing the writer so it does not keep retrying unseen). */
  static async connect(options: WriterOptions, waitMs = 30_000): Promise<SpacetimeWriter> {
    const w = SpacetimeWriter.open(options);
    try {
      await w.waitConnected(waitMs);
    } catch (e) {
      await w.close();
      if (e instanceof SpacetimeRefusedError) throw e;
      throw unavailable('spacetimedb', `no SpacetimeDB at ${options.uri} within ${waitMs} ms`, e);
    }
    return w;
  }

  /** The permanent refusal of the first connection (bad credentials, no such database), if any. */
  get refused(): SpacetimeRefusedError | undefined {
    return this.refusals.refused;
  }

  /** The lifecycle state's kind (./writer-machine.ts): for tests and logs. */
  get phase(): WriterKind {
    return this.state.kind;
  }

  get isConnected(): boolean {
    return this.state.kind === 'connected' && this.conn?.isActive === true;
  }

  /** For operators: where the link stands, why it last dropped, and the identity it writes as. */
  get connection(): {
    state: 'connected' | 'reconnecting' | 'closed';
    lastError?: string;
    identity?: string;
  } {
    return {
      state: reportedWriterState(this.state),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.identityHex !== undefined ? { identity: this.identityHex } : {}),
    };
  }

  private send(e: WriterEvent): void {
    const { state, effects } = transitionWriter(this.state, e);
    this.state = state;
    for (const f of effects) this.run(f);
  }

  private run(f: WriterEffect): void {
    switch (f.type) {
      case 'open_socket':
        this.open(f.socket);
        return;
      case 'subscribe':
        this.subscribe(f.socket);
        return;
      case 'mark_ready':
        this.refusals.connected();
        this.o.logger.info({ uri: this.o.uri, database: this.o.database }, 'connected to SpacetimeDB');
        this.o.onConnected?.();
        for (const w of this.waiters) w.ready();
        return;
      case 'fail_in_flight':
        // Whether it committed is unknown; the retry is safe because appends are idempotent by key.
        this.window.failInFlight(unavailable('spacetimedb', `connection lost during the call: ${f.failure}`));
        return;
      case 'schedule_retry': {
        const delay = backoffDelay(f.attempt, { baseMs: 100, capMs: 5_000 });
        if (this.state.kind === 'backoff') this.lastError = this.state.failure;
        this.o.logger.warn({ why: this.lastError, retryInMs: delay }, 'SpacetimeDB connection lost');
        this.retryTimer = setTimeout(() => this.send({ type: 'retry_due', socket: f.socket }), delay);
        return;
      }
      case 'cancel_retry':
        clearTimeout(this.retryTimer);
        return;
      case 'drain':
        this.draining = this.window.idle().then(() => this.send({ type: 'drained' }));
        return;
      case 'drop_socket': {
        const conn = this.conn;
        this.conn = undefined;
        conn?.disconnect();
        return;
      }
    }
  }

  private open(socket: number): void {
    const conn = openSdkSocket({
      uri: this.o.uri,
      database: this.o.database,
      token: this.o.token,
      compression: 'none',
      connectTimeoutMs: this.o.connectTimeoutMs,
      onOpened: (_c, identity) => {
        this.identityHex = identity.toHexString();
        this.send({ type: 'socket_opened', socket });
      },
      onConnectError: (err) => this.refusals.note(err.message),
      onLost: (why) => this.send({ type: 'socket_lost', socket, failure: why }),
    });
    conn.db.appendReceipt.onInsert((ctx, r) => {
      // Only our own call's result is a Reducer event; other writers' receipts arrive as Transaction.
      if (ctx.event.tag !== 'Reducer') return;
      this.collecting.get(ctx.event.value.reducer.args)?.set(r.batchIndex, {
        stream: r.streamId,
        key: r.idempotencyKey,
        seq: r.seq,
        status: r.status as ReceiptStatus,
      });
    });
    this.conn = conn;
    this.socketOf.set(conn, socket);
  }

  private subscribe(socket: number): void {
    const conn = this.conn;
    if (!conn || this.socketOf.get(conn) !== socket) return;
    conn
      .subscriptionBuilder()
      .onApplied(() => this.send({ type: 'subscription_applied', socket }))
      .onError((ctx) =>
        this.send({ type: 'socket_lost', socket, failure: `subscription failed: ${String(ctx.event)}` }),
      )
      .subscribe([
        'SELECT * FROM sync_stream',
        'SELECT * FROM source_cursor',
        'SELECT * FROM append_receipt',
      ]);
  }

  /** The subscribed tables, only while connected (a reconnecting writer knows no cursor). */
  private get tables(): DbConnection['db'] | undefined {
    return this.state.kind === 'connected' ? this.conn?.db : undefined;
  }

  /** Resolves when connected (or rejects after `ms`, once the writer is closed, or when refused for good). */
  async waitConnected(ms: number): Promise<void> {
    if (this.isConnected) return;
    if (this.refusals.refused) throw this.refusals.refused;
    if (this.state.kind === 'closing' || this.state.kind === 'closed') {
      throw unavailable('spacetimedb', 'the SpacetimeDB writer is closed');
    }
    let timer: NodeJS.Timeout | undefined;
    let waiter: { ready: () => void; closed: (e: Error) => void } | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        waiter = { ready: resolve, closed: reject };
        this.waiters.add(waiter);
        timer = setTimeout(() => reject(unavailable('spacetimedb', 'not connected')), ms);
      });
    } finally {
      clearTimeout(timer);
      if (waiter) this.waiters.delete(waiter);
    }
  }

  /** One stream's head, from the writer's own subscription (an index lookup, for per-request use). */
  stream(streamId: string): StreamHead | undefined {
    const tables = this.tables;
    return tables ? streamHead(tables, streamId) : undefined;
  }

  /**
   * Appends `events` atomically (and moves the Kafka cursor in the same transaction). Resolves with
   * one receipt per event once committed; throws a SyncError (the module's refusal or `unavailable`).
   */
  appendBatch(events: readonly EventInput[], cursor?: SourceCursor): Promise<AppendReceipt[]> {
    return this.window.run((lost) =>
      this.call(events, lost, (conn) => {
        const args = { events: [...events], cursor: cursor && { ...cursor, fromOffset: cursor.fromOffset } };
        return { args, answered: conn.reducers.appendSyncEvents(args) };
      }),
    );
  }

  /**
   * A pipelining publisher's call (`append_publisher_events`): the module applies it only as the
   * publisher's next seq and refuses one ahead of its predecessor (`out_of_order_sequence`,
   * retryable), so a predecessor that failed while this one was in flight never lets it commit first.
   */
  appendPublished(events: readonly EventInput[], publisher: PublisherSeq): Promise<AppendReceipt[]> {
    return this.window.run((lost) =>
      this.call(events, lost, (conn) => {
        const args = {
          events: [...events],
          publisher: { publisherId: publisher.publisherId, publisherSeq: publisher.publisherSeq },
        };
        return { args, answered: conn.reducers.appendPublisherEvents(args) };
      }),
    );
  }

  /** Appends in flight now (for tests and metrics). */
  get inFlight(): number {
    return this.window.inFlight;
  }

  private async call(
    events: readonly EventInput[],
    lost: Promise<never>,
    send: (conn: DbConnection) => { args: object; answered: Promise<void> },
  ): Promise<AppendReceipt[]> {
    const conn = this.conn;
    if (!conn || !this.isConnected) throw unavailable('spacetimedb', 'not connected to SpacetimeDB');
    const receipts = new Map<number, AppendReceipt>();
    let args: object | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Sent now, synchronously: the window's order is the order SpacetimeDB runs the calls in. The
      // receipts are told apart by the arguments object, registered before any answer can arrive.
      const sent = send(conn);
      args = sent.args;
      this.collecting.set(args, receipts);
      const answered = sent.answered;
      await Promise.race([
        answered,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(unavailable('spacetimedb', 'append timed out')),
            this.o.callTimeoutMs ?? 30_000,
          );
        }),
        // The window rejects this when the socket drops: no answer can come on it any more.
        lost,
      ]);
    } catch (e) {
      throw isSyncError(e) ? e : reducerError(e);
    } finally {
      clearTimeout(timer);
      if (args) this.collecting.delete(args);
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
    await this.admin(async (conn) => {
      if (this.identityHex === undefined) throw unavailable('spacetimedb', 'not connected to SpacetimeDB');
      const reader = Identity.fromString(this.identityHex);
      for (const streamId of streams) await conn.reducers.grantStreamRead({ reader, streamId });
    });
  }

  /** Makes the module accept client tokens of `issuer` for `audience` (their streams become grants). */
  trustTokenIssuer(issuer: string, audience: string): Promise<void> {
    return this.admin((conn) => conn.reducers.trustTokenIssuer({ issuer, audience }));
  }

  /** Ends a client session at once (its grants, calls and tokens), as the module's revoke_client_session. */
  revokeClientSession(sessionId: string): Promise<void> {
    return this.admin((conn) => conn.reducers.revokeClientSession({ sessionId }));
  }

  /** An administrative reducer call outside the append window: refused while not connected, its
   *  refusal mapped to the one error contract. */
  private async admin(f: (conn: DbConnection) => Promise<void>): Promise<void> {
    const conn = this.conn;
    if (!conn || !this.isConnected) throw unavailable('spacetimedb', 'not connected to SpacetimeDB');
    try {
      await f(conn);
    } catch (e) {
      throw isSyncError(e) ? e : reducerError(e);
    }
  }

  /** The next Kafka offset SpacetimeDB holds for a partition (the exactly-once anchor). */
  cursor(group: string, topic: string, partition: number): bigint | undefined {
    const tables = this.tables;
    return tables ? kafkaCursor(tables, group, topic, partition) : undefined;
  }

  streams(): Map<string, StreamHead> {
    const tables = this.tables;
    return tables ? streamHeads(tables) : new Map();
  }

  /** Lets the calls already queued finish, then closes the connection; nothing reconnects. */
  async close(): Promise<void> {
    this.send({ type: 'close' });
    const closed = unavailable('spacetimedb', 'the SpacetimeDB writer is closed');
    for (const w of this.waiters) w.closed(closed);
    await this.draining;
  }
}
