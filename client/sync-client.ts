/**
 * Resumable stream subscriptions for desktop clients on top of the unmodified SpacetimeDB SDK.
 * SpacetimeDB re-snapshots a subscription on every (re)connect and has no offset resume; this class
 * turns that into the legacy lane's guarantee: each stream's events exactly once and in order, from
 * the persisted watermark, or an explicit rebootstrap. It runs two machines (STATE-MACHINE.md): the
 * connection's (connection-machine.ts, its effects carried out by connection-effects.ts) and one per
 * stream (stream-machine.ts, run by stream-runner.ts). This class feeds them, reports the derived
 * state, and sends acks and presence.
 */
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from '../shared/backoff.js';
import type { SyncError } from '../shared/errors/sync-error.js';
import { warmHttpParserOnce } from '../shared/http-parser-warmup.js';
import { ensureWebSocket } from '../shared/node-websocket.js';
import { Checkpoints } from './checkpoints.js';
import type { SyncClientError } from './client-error.js';
import { type ClientState, clientState } from './client-state.js';
import { ConnectionEffects } from './connection-effects.js';
import {
  type ConnectionEvent,
  type ConnectionState,
  INITIAL_CONNECTION,
  INITIAL_EFFECTS,
  transitionConnection,
} from './connection-machine.js';
import type { CursorStore } from './cursor-store.js';
import { heartbeat, heartbeatInterval, type PresenceOptions } from './presence.js';
import { DEFAULT_REBOOTSTRAP, RebootstrapGuard, type RebootstrapPolicy } from './rebootstrap-guard.js';
import type { SyncEvent } from './sdk-session.js';
import { type RebootstrapInfo, type StartPosition, StreamRunner } from './stream-runner.js';
import { Timers } from './timers.js';
import type { TokenProvider } from './token-provider.js';

/** The contract's error type, as the application meets it in `onAckRefused`. */
export { isSyncError, SyncError } from '../shared/errors/sync-error.js';
export { isSyncClientError, SyncClientError, type SyncClientErrorCode } from './client-error.js';
export type { ClientState } from './client-state.js';
export type { SyncEvent } from './sdk-session.js';
export type { RebootstrapInfo } from './stream-runner.js';
export type { RebootstrapReason } from './subscription-plan.js';
export type { TokenProvider } from './token-provider.js';

/** What `onState` says beside the state: when a backoff retries, why the client closed. */
export interface StateInfo {
  /** Epoch ms of the next connection attempt (in `backoff`). */
  readonly retryAt?: number;
  /** The permanent failure that closed the client (in `closed`). */
  readonly error?: SyncClientError;
}

export interface SyncClientOptions {
  readonly uri: string;
  readonly database: string;
  /** A fixed token, or a provider asked before each connection attempt (token-provider.ts). */
  readonly token?: string | TokenProvider;
  /** This device's id for checkpoints; bound server-side to the first identity that acks it. */
  readonly clientId: string;
  readonly store: CursorStore;
  /** Apply one event; resolve when applied. Called in seq order per stream, never twice per seq. */
  onEvent(streamId: string, event: SyncEvent): void | Promise<void>;
  /** The stream's history moved under the client: reset application state for it. */
  onRebootstrap?(info: RebootstrapInfo): void | Promise<void>;
  onState?(state: ClientState, detail?: string, info?: StateInfo): void;
  /** Replay progress per stream: applied so far / target head at subscribe time. */
  onProgress?(streamId: string, applied: bigint, head: bigint): void;
  /**
   * The server refused an ack for good, as the contract's SyncError (`unauthorized`: this client id
   * belongs to another identity; `unknown_stream`, `beyond_head`, `invalid`). Delivery goes on; the
   * server's checkpoint for the stream stays behind until the cause is fixed. Once per stream and
   * reason. (Stale acks are not reported: the client rebootstraps.)
   */
  onAckRefused?(streamId: string, error: SyncError): void;
  readonly ackIntervalMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly rebootstrap?: RebootstrapPolicy;
  /** Held-back events older than this trigger a re-fetch from the watermark. */
  readonly gapRefetchMs?: number;
  /**
   * A connection attempt that has neither opened (`InitialConnection`) nor failed after this long is
   * given up as a transient failure and retried with backoff. Without it a handshake the network
   * swallows (a black hole, a host killed mid-accept behind a proxy) kept the client in `connecting`
   * forever; the chaos runs found that. Default 15,000.
   */
  readonly connectTimeoutMs?: number;
  readonly presence?: PresenceOptions;
  /**
   * A replay longer than this many seqs is read window by window (`seq > w AND seq <= w + window`),
   * one window subscription after another, so a client far behind holds at most a few windows in the
   * SDK's cache instead of the whole backlog. Default `DEFAULT_REPLAY_WINDOW`; 0 turns windows off
   * (one subscription for the whole backlog). Why windows by default: the cache stays bounded, and
   * the unpatched SDK made leaving a replay subscription cost the host re-sending every row it held
   * (`SendDroppedRows`): one 100,000-row replay ended with a host busy for about a second, and the
   * first live event waited that long. The patched SDK drops a subscription's rows itself
   * (patches/README.md), so leaving a window costs neither side a re-send.
   */
  readonly replayWindow?: number;
  /**
   * Start these streams after the given seq instead of at their stored cursor, in whatever epoch the
   * stream is in (`tail --from N` passes N - 1). Below the retained history it rebootstraps as usual.
   */
  readonly startAfter?: ReadonlyMap<string, bigint>;
}

/** Seqs per replay window unless the options say otherwise (see `SyncClientOptions.replayWindow`). */
export const DEFAULT_REPLAY_WINDOW = 4_000;

function replayWindowOf(option: number | undefined): bigint | undefined {
  const window = option ?? DEFAULT_REPLAY_WINDOW;
  if (!Number.isSafeInteger(window) || window < 0)
    throw new RangeError(`replayWindow must be a whole number ≥ 0, got ${window}`);
  return window === 0 ? undefined : BigInt(window);
}

export class SyncClient {
  private conn: ConnectionState = INITIAL_CONNECTION;
  private readonly runners: Map<string, StreamRunner>;
  private readonly timers = new Timers();
  private readonly checkpoints = new Checkpoints(undefined, (streamId, error) =>
    this.options.onAckRefused?.(streamId, error),
  );
  private reported: ClientState = 'connecting';
  private readonly listeners = new Set<() => void>();
  private readonly effects: ConnectionEffects;

  private constructor(
    private readonly options: SyncClientOptions,
    cursors: Map<string, StartPosition | undefined>,
  ) {
    const guard = new RebootstrapGuard(options.rebootstrap ?? DEFAULT_REBOOTSTRAP);
    const runnerOptions = {
      ...options,
      replayWindow: replayWindowOf(options.replayWindow),
      gapRefetchMs: options.gapRefetchMs ?? 1_000,
    };
    this.runners = new Map();
    this.effects = new ConnectionEffects({
      options,
      runners: this.runners,
      timers: this.timers,
      state: () => this.conn,
      dispatch: (e) => this.dispatch(e),
      closeWith: (error) => this.closeWith(error),
      drain: () => this.drain(),
    });
    for (const [id, cursor] of cursors) {
      const runner = new StreamRunner(
        id,
        runnerOptions,
        {
          guard,
          timers: this.timers,
          rebootstrapped: (streamId) => this.checkpoints.reset(streamId, 0n),
          refused: (detail) => this.effects.refused(detail),
          fatal: (error) => this.dispatch({ type: 'fatal', error }),
          changed: () => this.report(),
        },
        cursor,
      );
      this.runners.set(id, runner);
      if (cursor) this.checkpoints.reset(id, cursor.watermark);
    }
  }

  /** Opens the streams: loads their cursors, connects, replays, then follows live. */
  static async open(streamIds: readonly string[], options: SyncClientOptions): Promise<SyncClient> {
    ensureWebSocket();
    // Node 20's fetch misses a peer's close on a process's first connection and then waits forever
    // (../shared/http-parser-warmup.ts): warmed before the first fetch (a failed attempt's
    // diagnosis; the socket itself needs no token request, ./sdk-websocket.ts).
    await warmHttpParserOnce();
    const cursors = new Map<string, StartPosition | undefined>();
    for (const id of streamIds) {
      const start = options.startAfter?.get(id);
      cursors.set(
        id,
        start === undefined ? await options.store.load(id) : { epoch: undefined, watermark: start },
      );
    }
    const client = new SyncClient(options, cursors);
    for (const fx of INITIAL_EFFECTS) client.effects.perform(fx);
    client.timers.every(options.ackIntervalMs ?? 250, () => client.flushAcks());
    const presence = options.presence;
    if (presence) client.timers.every(heartbeatInterval(presence), () => client.heartbeat(presence));
    return client;
  }

  get currentState(): ClientState {
    return this.reported;
  }

  /** Epoch ms of the next connection attempt while backing off (for a countdown), else undefined. */
  get nextRetryAt(): number | undefined {
    return this.conn.kind === 'backoff' ? this.conn.retryAt : undefined;
  }

  /** The permanent failure that closed the client, if one did. */
  get error(): SyncClientError | undefined {
    return this.conn.kind === 'closing' || this.conn.kind === 'closed' ? this.conn.error : undefined;
  }

  /**
   * Rows the SDK currently caches for this client's event subscriptions: a replay's (or a gap
   * re-fetch's) while it lasts; none while live, since live events come through an event table.
   */
  get cachedEventCount(): number {
    return this.effects.session?.cachedEventCount ?? 0;
  }

  /** Last seq the application applied, per stream. */
  watermark(streamId: string): bigint | undefined {
    return this.runners.get(streamId)?.applied;
  }

  /** Resolves when every stream delivered its replay and the client is live; rejects once closed. */
  waitLive(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.reported === 'live') return done(resolve);
        if (this.conn.kind === 'closed') return done(() => reject(this.error ?? new Error('client closed')));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`timed out in state ${this.reported}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves once the client is closed: with the permanent failure that closed it, if any. */
  whenClosed(): Promise<SyncClientError | undefined> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.conn.kind !== 'closed') return;
        this.listeners.delete(check);
        resolve(this.conn.error);
      };
      this.listeners.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    this.dispatch({ type: 'close_requested' });
    await this.whenClosed();
  }

  // ---- the connection machine (its effects: connection-effects.ts) ----

  private dispatch(event: ConnectionEvent): void {
    const t = transitionConnection(this.conn, event, {
      now: Date.now(),
      backoffDelay: (attempt) => backoffDelay(attempt, this.options.backoff ?? DEFAULT_BACKOFF),
    });
    if (t.state === this.conn) return;
    this.conn = t.state;
    for (const fx of t.effects) this.effects.perform(fx);
    this.report();
  }

  private closeWith(error: SyncClientError): void {
    if (!('socket' in this.conn)) return;
    this.dispatch({ type: 'subscription_refused', socket: this.conn.socket, error });
  }

  /** Stop taking events first — anything delivered after this point would not be in the stored cursor — then finish what is in flight. */
  private async drain(): Promise<void> {
    for (const r of this.runners.values()) r.detach();
    await Promise.all([...this.runners.values()].map((r) => r.chain.catch(() => {})));
    await this.flushAcks(true);
    this.dispatch({ type: 'drained' });
  }

  private report(): void {
    const state = clientState(
      this.conn,
      [...this.runners.values()].map((r) => r.state),
    );
    if (state !== undefined && state !== this.reported) {
      this.reported = state;
      this.options.onState?.(state, this.detail(), this.info());
    }
    for (const l of [...this.listeners]) l();
  }

  private detail(): string | undefined {
    const c = this.conn;
    if (c.kind === 'backoff') return `${c.failure}; retrying in ${Math.max(0, c.retryAt - Date.now())} ms`;
    if (c.kind === 'closed') return c.error?.message;
    for (const r of this.runners.values())
      if (r.state.kind === 'rebootstrapping') return `${r.id}: ${r.state.reason.kind}`;
    return undefined;
  }

  private info(): StateInfo {
    const error = this.error;
    const retryAt = this.nextRetryAt;
    return { ...(retryAt !== undefined ? { retryAt } : {}), ...(error ? { error } : {}) };
  }

  // ---- acks and presence ----

  private async flushAcks(closing = false): Promise<void> {
    const session = this.effects.session;
    if (!session || (this.conn.kind !== 'open' && !closing)) return;
    const sources = [...this.runners.values()].map((r) => ({
      id: r.id,
      get applied() {
        return r.applied;
      },
      get epoch() {
        return r.epoch;
      },
      settled: r.chain.catch(() => {}),
    }));
    await this.checkpoints.flush(
      sources,
      (streamId, seq, epoch) => session.ack(this.options.clientId, streamId, seq, epoch),
      () => this.effects.session === session,
    );
  }

  private async heartbeat(presence: PresenceOptions): Promise<void> {
    const session = this.effects.session;
    if (!session || (this.conn.kind !== 'open' && this.conn.kind !== 'subscribing')) return;
    await heartbeat(session, presence, [...this.runners.keys()], this.reported);
  }
}
