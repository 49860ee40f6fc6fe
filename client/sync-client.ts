/**
 * Resumable stream subscriptions for desktop clients on top of the unmodified SpacetimeDB SDK.
 * SpacetimeDB re-snapshots a subscription on every (re)connect and has no offset resume; this class
 * turns that into the legacy lane's guarantee: each stream's events exactly once and in order, from
 * the persisted watermark, or an explicit rebootstrap. See STATE-MACHINE.md.
 */
import type { Infer } from 'spacetimedb';
import {
  DbConnection,
  type SubscriptionHandle,
  type SyncEventRow,
  type SyncStreamRow,
} from '../module/bindings/index.js';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import type { Cursor, CursorStore } from './cursor-store.js';
import { ensureWebSocket } from './node-websocket.js';
import {
  DEFAULT_REBOOTSTRAP,
  RebootstrapGuard,
  RebootstrapLoopError,
  type RebootstrapPolicy,
} from './rebootstrap-guard.js';
import { StreamApplier } from './stream-applier.js';

export type SyncEvent = Infer<typeof SyncEventRow>;
type StreamRow = Infer<typeof SyncStreamRow>;

export type ClientState = 'connecting' | 'replaying' | 'live' | 'rebootstrapping' | 'backoff' | 'closed';

export type RebootstrapReason =
  | { readonly kind: 'epoch_changed'; readonly fromEpoch: bigint; readonly toEpoch: bigint }
  | { readonly kind: 'below_low_watermark'; readonly watermark: bigint; readonly lowWatermark: bigint };

export interface RebootstrapInfo {
  readonly streamId: string;
  readonly reason: RebootstrapReason;
  /** The stream's retained history starts here; the client replays from it after the callback. */
  readonly lowWatermark: bigint;
  readonly epoch: bigint;
  readonly head: bigint;
}

export interface SyncClientOptions {
  readonly uri: string;
  readonly database: string;
  readonly token?: string;
  /** This device's id for checkpoints; bound server-side to the first identity that acks it. */
  readonly clientId: string;
  readonly store: CursorStore;
  /** Apply one event; resolve when applied. Called in seq order per stream, never twice per seq. */
  onEvent(streamId: string, event: SyncEvent): void | Promise<void>;
  /** The stream's history moved under the client: reset application state for it. */
  onRebootstrap?(info: RebootstrapInfo): void | Promise<void>;
  onState?(state: ClientState, detail?: string): void;
  /** Replay progress per stream: applied so far / target head at subscribe time. */
  onProgress?(streamId: string, applied: bigint, head: bigint): void;
  readonly ackIntervalMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly rebootstrap?: RebootstrapPolicy;
  /** Held-back events older than this trigger a re-fetch from the watermark. */
  readonly gapRefetchMs?: number;
  readonly presence?: { readonly sessionId: string; readonly deviceId: string; readonly ttlMs: number };
  /**
   * The SDK caches every row a subscription matched; a live `seq > watermark` subscription would
   * grow without end. After this many delivered events the client re-subscribes from its current
   * watermark and drops the old subscription (and its cached rows). Default 10,000.
   */
  readonly rolloverEvents?: number;
  /**
   * When set, a replay longer than this many seqs is read window by window
   * (`seq > w AND seq <= w + window`), one window subscription after another, so a client far behind
   * holds a few windows in the SDK's cache instead of the whole backlog (measured: at most 30,000
   * rows for windows of 10,000 against all 100,000 without). Off by default: it
   * trades time for memory (each window is a subscribe/unsubscribe round; on devhost 100k events in
   * windows of 10k replayed in 1.7 s instead of 1.1 s), so turn it on where memory matters.
   */
  readonly replayWindow?: number;
  /**
   * Start these streams after the given seq instead of at their stored cursor, in whatever epoch the
   * stream is in (`tail --from N` passes N - 1). Below the retained history it rebootstraps as usual.
   */
  readonly startAfter?: ReadonlyMap<string, bigint>;
}

interface StreamState {
  readonly id: string;
  epoch: bigint | undefined;
  applier: StreamApplier<SyncEvent>;
  /** Deliveries to the application, one at a time. */
  chain: Promise<void>;
  acked: bigint;
  gapSince: number | undefined;
  ready: boolean;
  /** The applied `seq > watermark` subscription; replaced on rollover, rebootstrap and re-fetch. */
  handle: SubscriptionHandle | undefined;
  /** Events delivered since that subscription was made. */
  sinceSubscribe: number;
  /** The current subscription is a bounded replay window; the live tail comes after the last. */
  windowed: boolean;
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

export class SyncClient {
  private conn: DbConnection | undefined;
  private state: ClientState = 'connecting';
  private readonly streams = new Map<string, StreamState>();
  private attempt = 0;
  private closed = false;
  private closing = false;
  private timers = new Set<NodeJS.Timeout>();
  private readonly guard: RebootstrapGuard;
  private generation = 0;

  private constructor(
    private readonly options: SyncClientOptions,
    streamIds: readonly string[],
  ) {
    this.guard = new RebootstrapGuard(options.rebootstrap ?? DEFAULT_REBOOTSTRAP);
    for (const id of streamIds) {
      this.streams.set(id, {
        id,
        epoch: undefined,
        applier: new StreamApplier(0n),
        chain: Promise.resolve(),
        acked: 0n,
        gapSince: undefined,
        ready: false,
        handle: undefined,
        sinceSubscribe: 0,
        windowed: false,
      });
    }
  }

  /** Opens the streams: loads their cursors, connects, replays, then follows live. */
  static async open(streamIds: readonly string[], options: SyncClientOptions): Promise<SyncClient> {
    ensureWebSocket();
    const client = new SyncClient(options, streamIds);
    for (const s of client.streams.values()) {
      const start = options.startAfter?.get(s.id);
      if (start !== undefined) {
        s.applier = new StreamApplier(start);
        s.acked = start;
        continue;
      }
      const cursor = await options.store.load(s.id);
      if (cursor) {
        s.epoch = cursor.epoch;
        s.applier = new StreamApplier(cursor.watermark);
        s.acked = cursor.watermark;
      }
    }
    client.connect();
    client.every(options.ackIntervalMs ?? 250, () => client.flushAcks());
    if (options.presence) {
      const p = options.presence;
      client.every(Math.max(100, Math.floor(p.ttlMs / 3)), () => client.heartbeat());
    }
    return client;
  }

  get currentState(): ClientState {
    return this.state;
  }

  /** Rows the SDK currently caches for this client's event subscriptions (bounded by rollover). */
  get cachedEventCount(): number {
    return this.conn ? Number(this.conn.db.sync_event.count()) : 0;
  }

  /** Last seq the application applied, per stream. */
  watermark(streamId: string): bigint | undefined {
    return this.streams.get(streamId)?.applier.watermark;
  }

  /** Resolves when every stream delivered its replay and the client is live. */
  waitLive(timeoutMs = 30_000): Promise<void> {
    return this.waitFor((s) => s === 'live', timeoutMs);
  }

  private waitFor(pred: (s: ClientState) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = () => {
        if (pred(this.state)) return resolve();
        if (this.state === 'closed') return reject(new Error('client closed'));
        if (Date.now() - started > timeoutMs) return reject(new Error(`timed out in state ${this.state}`));
        setTimeout(poll, 10);
      };
      poll();
    });
  }

  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    // Stop taking events first: anything delivered after this point would not be in the stored
    // cursor the next client starts from, and the application would see it twice.
    this.closing = true;
    this.generation++;
    await Promise.all([...this.streams.values()].map((s) => s.chain));
    await this.flushAcks();
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.conn?.disconnect();
    this.conn = undefined;
    this.setState('closed');
  }

  // ---- connection ----

  private setState(state: ClientState, detail?: string): void {
    if (this.state === 'closed') return;
    this.state = state;
    this.options.onState?.(state, detail);
  }

  private every(ms: number, fn: () => unknown): void {
    const tick = () => {
      if (this.closed) return;
      void Promise.resolve(fn()).finally(() => {
        if (!this.closed) this.timers.add(setTimeout(tick, ms));
      });
    };
    this.timers.add(setTimeout(tick, ms));
  }

  private connect(): void {
    if (this.closed) return;
    const generation = ++this.generation;
    this.setState('connecting');
    for (const s of this.streams.values()) s.ready = false;
    const conn = DbConnection.builder()
      .withUri(this.options.uri)
      .withDatabaseName(this.options.database)
      .withToken(this.options.token)
      .withConfirmedReads(true)
      .onConnect(() => {
        if (generation !== this.generation) return;
        this.attempt = 0;
        this.subscribeStreams(conn, generation);
      })
      .onConnectError((_ctx, err) => this.lost(generation, `connect error: ${String(err)}`))
      .onDisconnect((_ctx, err) =>
        this.lost(generation, err ? `disconnected: ${String(err)}` : 'disconnected'),
      )
      .build();
    this.conn = conn;
    conn.db.sync_event.onInsert((_ctx, row) => {
      if (generation !== this.generation) return;
      const s = this.streams.get(row.stream_id);
      if (s?.ready) this.offer(s, [row]);
    });
    conn.db.sync_stream.onInsert((_ctx, row) => {
      const s = this.streams.get(row.stream_id);
      if (generation === this.generation && s && s.epoch === undefined) s.epoch = row.epoch;
    });
    conn.db.sync_stream.onUpdate((_ctx, _old, row) => {
      if (generation !== this.generation) return;
      const s = this.streams.get(row.stream_id);
      if (s?.ready) this.checkStale(conn, generation, s, row);
    });
  }

  private lost(generation: number, detail: string): void {
    if (generation !== this.generation || this.closed) return;
    this.generation++;
    this.conn = undefined;
    const delay = backoffDelay(this.attempt++, this.options.backoff ?? DEFAULT_BACKOFF);
    this.setState('backoff', `${detail}; retrying in ${delay} ms`);
    this.timers.add(setTimeout(() => this.connect(), delay));
  }

  private subscribeStreams(conn: DbConnection, generation: number): void {
    const ids = [...this.streams.keys()];
    this.setState('replaying');
    conn
      .subscriptionBuilder()
      .onApplied(() => {
        if (generation !== this.generation) return;
        for (const s of this.streams.values()) {
          const row = conn.db.sync_stream.stream_id.find(s.id) ?? undefined;
          this.startStream(conn, generation, s, row);
        }
      })
      .onError((ctx) => this.lost(generation, `stream subscription failed: ${String(ctx.event ?? '')}`))
      .subscribe(ids.map((id) => `SELECT * FROM sync_stream WHERE stream_id = ${quote(id)}`));
  }

  /** Stale if the stream's history moved: a new epoch, or retained history starting past our watermark. */
  private staleness(s: StreamState, row: StreamRow | undefined): RebootstrapReason | undefined {
    if (!row) return undefined;
    if (s.epoch !== undefined && s.epoch !== row.epoch)
      return { kind: 'epoch_changed', fromEpoch: s.epoch, toEpoch: row.epoch };
    // A first run (no cursor, watermark 0) on a stream whose history was already truncated is
    // stale too: starting at the low watermark without a word would hide seqs 1..low-1 from the app.
    const w = s.applier.watermark;
    if (w + 1n < row.low_watermark) {
      return { kind: 'below_low_watermark', watermark: w, lowWatermark: row.low_watermark };
    }
    return undefined;
  }

  private startStream(
    conn: DbConnection,
    generation: number,
    s: StreamState,
    row: StreamRow | undefined,
  ): void {
    const reason = this.staleness(s, row);
    if (reason && row) {
      void this.rebootstrap(conn, generation, s, row, reason);
      return;
    }
    if (row && s.epoch === undefined) s.epoch = row.epoch;
    this.subscribeEvents(conn, generation, s);
  }

  private subscribeEvents(conn: DbConnection, generation: number, s: StreamState, allowWindow = true): void {
    const from = s.applier.watermark;
    // The head as this connection sees it: where a replay ends, and what progress is reported against.
    const target = conn.db.sync_stream.stream_id.find(s.id)?.head_seq ?? 0n;
    const window = this.options.replayWindow === undefined ? undefined : BigInt(this.options.replayWindow);
    const upper = allowWindow && window !== undefined && target - from > window ? from + window : undefined;
    const bound = upper === undefined ? '' : ` AND seq <= ${upper}`;
    const handle: SubscriptionHandle = conn
      .subscriptionBuilder()
      .onApplied(() => {
        if (generation !== this.generation) return;
        // The new subscription covers everything after the watermark: the previous one (and the
        // rows only it kept in the SDK's cache) can go. Overlapping rows are dropped as duplicates.
        const previous = s.handle;
        s.handle = handle;
        s.sinceSubscribe = 0;
        if (previous && previous !== handle && previous.isActive()) previous.unsubscribe();
        // An epoch change or truncation that landed while this subscription was being set up (or
        // while a rebootstrap was in progress) is only visible in the stream row: check it first.
        const current = conn.db.sync_stream.stream_id.find(s.id) ?? undefined;
        const stale = this.staleness(s, current);
        if (stale && current) {
          void this.rebootstrap(conn, generation, s, current, stale);
          return;
        }
        const rows: SyncEvent[] = [];
        for (const r of conn.db.sync_event.iter()) if (r.stream_id === s.id && r.seq > from) rows.push(r);
        rows.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
        s.ready = true;
        s.windowed = upper !== undefined;
        this.offer(s, rows);
        this.options.onProgress?.(s.id, s.applier.watermark, target);
        if (upper !== undefined) {
          // Next window once this one is applied; a window that moved nothing (history changed
          // under it) falls back to the unbounded subscription rather than asking again.
          void s.chain.then(() => {
            // Not if something else took over meanwhile: a rebootstrap (not ready), a re-fetch or a reconnect.
            if (generation !== this.generation || this.closing || !s.ready || s.handle !== handle) return;
            this.subscribeEvents(conn, generation, s, s.applier.watermark > from);
          });
          return;
        }
        void s.chain.then(() => {
          if (
            generation === this.generation &&
            [...this.streams.values()].every((x) => x.ready && !x.windowed) &&
            this.state === 'replaying'
          )
            this.setState('live');
        });
      })
      .onError((ctx) => this.lost(generation, `event subscription failed: ${String(ctx.event ?? '')}`))
      .subscribe(`SELECT * FROM sync_event WHERE stream_id = ${quote(s.id)} AND seq > ${from}${bound}`);
  }

  private offer(s: StreamState, rows: SyncEvent[]): void {
    // A stream created after we subscribed has no epoch yet: it arrives with its first events.
    if (s.epoch === undefined) s.epoch = this.conn?.db.sync_stream.stream_id.find(s.id)?.epoch;
    const { deliver, gap } = s.applier.offer(rows);
    s.sinceSubscribe += deliver.length;
    // A replay window is replaced by the next one anyway; rollover is for the live tail.
    if (s.ready && !s.windowed && s.sinceSubscribe >= (this.options.rolloverEvents ?? 10_000) && this.conn) {
      s.sinceSubscribe = 0;
      this.subscribeEvents(this.conn, this.generation, s);
    }
    if (deliver.length > 0) {
      s.chain = s.chain.then(async () => {
        for (const e of deliver) await this.options.onEvent(s.id, e);
        const epoch = s.epoch;
        const watermark = (deliver[deliver.length - 1] as SyncEvent).seq;
        if (epoch !== undefined) await this.options.store.save(s.id, { epoch, watermark } satisfies Cursor);
      });
    }
    if (!gap) {
      s.gapSince = undefined;
      return;
    }
    if (s.gapSince === undefined) {
      s.gapSince = Date.now();
      const conn = this.conn;
      const generation = this.generation;
      this.timers.add(
        setTimeout(() => {
          if (
            generation !== this.generation ||
            !conn ||
            s.gapSince === undefined ||
            s.applier.pendingCount === 0
          )
            return;
          // Bounded re-fetch: a fresh subscription from the watermark returns exactly the missing rows.
          s.gapSince = undefined;
          this.subscribeEvents(conn, generation, s);
        }, this.options.gapRefetchMs ?? 1_000),
      );
    }
  }

  private checkStale(conn: DbConnection, generation: number, s: StreamState, row: StreamRow): void {
    const reason = this.staleness(s, row);
    if (reason) void this.rebootstrap(conn, generation, s, row, reason);
  }

  private async rebootstrap(
    conn: DbConnection,
    generation: number,
    s: StreamState,
    row: StreamRow,
    reason: RebootstrapReason,
  ): Promise<void> {
    s.ready = false;
    let delay: number;
    try {
      delay = this.guard.admit(s.id);
    } catch (e) {
      if (e instanceof RebootstrapLoopError) {
        this.setState('closed', e.message);
        this.closed = true;
        conn.disconnect();
        return;
      }
      throw e;
    }
    this.setState('rebootstrapping', `${s.id}: ${reason.kind}`);
    await new Promise((r) => this.timers.add(setTimeout(r, delay)));
    await s.chain;
    if (generation !== this.generation || this.closed) return;
    // The stream may have moved again while we waited (another reset, more retention): use it as it is now.
    row = conn.db.sync_stream.stream_id.find(s.id) ?? row;
    await this.options.onRebootstrap?.({
      streamId: s.id,
      reason,
      lowWatermark: row.low_watermark,
      epoch: row.epoch,
      head: row.head_seq,
    });
    s.epoch = row.epoch;
    s.applier.reset(row.low_watermark - 1n);
    s.acked = 0n;
    await this.options.store.save(s.id, { epoch: row.epoch, watermark: row.low_watermark - 1n });
    this.setState('replaying');
    this.subscribeEvents(conn, generation, s);
  }

  // ---- acks and presence ----

  private async flushAcks(): Promise<void> {
    const conn = this.conn;
    if (!conn || this.closed) return;
    for (const s of this.streams.values()) {
      await s.chain;
      const applied = s.applier.watermark;
      if (applied <= s.acked || s.epoch === undefined) continue;
      try {
        await conn.reducers.ackCheckpoint({
          client_id: this.options.clientId,
          stream_id: s.id,
          acked_seq: applied,
          epoch: s.epoch,
        });
        s.acked = applied;
      } catch {
        // A stale ack is answered by the stream row's update (rebootstrap); others retry next tick.
      }
    }
  }

  private async heartbeat(): Promise<void> {
    const conn = this.conn;
    const p = this.options.presence;
    if (!conn || !p || this.state === 'connecting' || this.state === 'backoff') return;
    try {
      await conn.reducers.upsertPresence({
        session_id: p.sessionId,
        device_id: p.deviceId,
        streams: [...this.streams.keys()],
        state: this.state,
        ttl_ms: p.ttlMs,
      });
    } catch {
      // Presence is advisory; the next heartbeat retries.
    }
  }
}
