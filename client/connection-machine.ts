/**
 * The client's connection lifecycle as a tagged union with one transition function. Pure: the
 * runtime (sync-client.ts) feeds it events and carries out the effects it returns. Every event from
 * a socket names that socket; one from an earlier socket returns the same state and no effects, so
 * late callbacks of a dead connection cannot move the client. `CONNECTION_SPEC` is the table the
 * tests drive and STATE-MACHINE.md is rendered from.
 */
import type { SyncClientError } from './client-error.js';

/** What a failed connection attempt was, once the host has been asked (connect-diagnosis.ts). */
export type Diagnosis =
  | { readonly kind: 'transient'; readonly detail: string }
  | { readonly kind: 'permanent'; readonly error: SyncClientError };

export type ConnectionState =
  /**
   * Socket `socket` is opening; waiting for the host's `InitialConnection`. `asked`: its SDK session
   * exists and the subscriptions are queued in it (sent the moment the socket opens).
   */
  | {
      readonly kind: 'connecting';
      readonly socket: number;
      readonly attempt: number;
      readonly asked?: true;
    }
  /** The attempt failed; asking the host whether the failure is permanent (bad token, no such database). */
  | {
      readonly kind: 'diagnosing';
      readonly socket: number;
      readonly attempt: number;
      readonly failure: string;
    }
  /**
   * Connected; the streams' rows (with the live event table) and each stream's first event
   * subscription are asked for, and the rows are not read yet.
   */
  | { readonly kind: 'subscribing'; readonly socket: number }
  /** Connected and the streams run (stream-machine.ts). */
  | { readonly kind: 'open'; readonly socket: number }
  /** Waiting until `retryAt` (epoch ms) before the next attempt. */
  | {
      readonly kind: 'backoff';
      readonly socket: number;
      readonly attempt: number;
      readonly retryAt: number;
      readonly failure: string;
    }
  /** Finishing deliveries in progress and flushing acks; `error` when a permanent failure closes the client. */
  | { readonly kind: 'closing'; readonly error?: SyncClientError }
  | { readonly kind: 'closed'; readonly error?: SyncClientError };

export type ConnectionKind = ConnectionState['kind'];

export type ConnectionEvent =
  /** The SDK session of socket `socket` exists (its token in hand); the socket is still opening. */
  | { readonly type: 'socket_created'; readonly socket: number }
  | { readonly type: 'socket_opened'; readonly socket: number }
  | { readonly type: 'stream_rows_applied'; readonly socket: number }
  | { readonly type: 'connect_failed'; readonly socket: number; readonly failure: string }
  | { readonly type: 'diagnosed'; readonly socket: number; readonly diagnosis: Diagnosis }
  | { readonly type: 'socket_lost'; readonly socket: number; readonly failure: string }
  | { readonly type: 'subscription_refused'; readonly socket: number; readonly error: SyncClientError }
  | { readonly type: 'retry_due'; readonly socket: number }
  | { readonly type: 'close_requested' }
  /** A permanent failure found outside the connection (a rebootstrap loop). */
  | { readonly type: 'fatal'; readonly error: SyncClientError }
  | { readonly type: 'drained' };

export type ConnectionEffect =
  | { readonly type: 'open_socket'; readonly socket: number }
  | { readonly type: 'subscribe_stream_rows'; readonly socket: number }
  /** Each stream asks for its first event subscription on the socket (sent after the rows' subscription). */
  | { readonly type: 'start_streams' }
  /** The rows are read: each stream checks its own (fresh or stale) before it takes any event. */
  | { readonly type: 'check_streams' }
  | { readonly type: 'streams_lost' }
  | { readonly type: 'drop_socket' }
  | { readonly type: 'diagnose'; readonly socket: number; readonly failure: string }
  | { readonly type: 'schedule_retry'; readonly socket: number; readonly at: number }
  | { readonly type: 'drain' }
  | { readonly type: 'finish'; readonly error?: SyncClientError };

export interface ConnectionContext {
  readonly now: number;
  /** Delay before retry number `attempt` (0-based): capped, jittered (backoff.ts). */
  backoffDelay(attempt: number): number;
}

export interface ConnectionTransition {
  readonly state: ConnectionState;
  readonly effects: readonly ConnectionEffect[];
}

export const INITIAL_CONNECTION: ConnectionState = { kind: 'connecting', socket: 1, attempt: 0 };

/** The effects that start the machine in `INITIAL_CONNECTION`. */
export const INITIAL_EFFECTS: readonly ConnectionEffect[] = [{ type: 'open_socket', socket: 1 }];

export function transitionConnection(
  s: ConnectionState,
  e: ConnectionEvent,
  ctx: ConnectionContext,
): ConnectionTransition {
  const stay: ConnectionTransition = { state: s, effects: [] };
  if (s.kind === 'closed') return stay;
  if (s.kind === 'closing') {
    if (e.type !== 'drained') return stay;
    return { state: closedWith(s.error), effects: [{ type: 'finish', ...withError(s.error) }] };
  }
  switch (e.type) {
    case 'close_requested':
      return closing(undefined);
    case 'fatal':
      return closing(e.error);
    case 'drained':
      return stay;
    case 'retry_due':
      if (s.kind !== 'backoff' || s.socket !== e.socket) return stay;
      return {
        state: { kind: 'connecting', socket: s.socket + 1, attempt: s.attempt + 1 },
        effects: [{ type: 'open_socket', socket: s.socket + 1 }],
      };
  }
  // The rest come from a socket: only the current one counts.
  if (s.kind === 'backoff' || s.socket !== e.socket) return stay;
  switch (e.type) {
    case 'socket_created':
      if (s.kind !== 'connecting' || s.asked) return stay;
      // Pipelined, and before the socket has even opened: the SDK queues what is sent before then
      // and sends it in the socket's first frame, so the host reads the subscriptions right after
      // the upgrade instead of a round trip after its InitialConnection, and the streams' first
      // event subscriptions go right behind the rows' one instead of after it is applied. The order
      // is what keeps the seam: the host handles one client's messages in order, so the live event
      // table is subscribed before any replay snapshot is taken. Nothing is taken from a replay
      // before its stream's row is read and checked (stream-machine.ts).
      return {
        state: { ...s, asked: true },
        effects: [{ type: 'subscribe_stream_rows', socket: s.socket }, { type: 'start_streams' }],
      };
    case 'socket_opened':
      if (s.kind !== 'connecting') return stay;
      return { state: { kind: 'subscribing', socket: s.socket }, effects: [] };
    case 'stream_rows_applied':
      if (s.kind !== 'subscribing') return stay;
      return { state: { kind: 'open', socket: s.socket }, effects: [{ type: 'check_streams' }] };
    case 'connect_failed':
    case 'socket_lost':
      if (s.kind === 'connecting') {
        // A socket that never reached `InitialConnection`: ask the host why before retrying. The
        // streams may already have asked for their subscriptions on it.
        return {
          state: { kind: 'diagnosing', socket: s.socket, attempt: s.attempt, failure: e.failure },
          effects: [
            { type: 'drop_socket' },
            { type: 'streams_lost' },
            { type: 'diagnose', socket: s.socket, failure: e.failure },
          ],
        };
      }
      if (s.kind === 'diagnosing') return stay;
      // An established connection that dropped: the host was fine a moment ago, so retry soon.
      return backoff(s.socket, 0, e.failure, ctx, [{ type: 'drop_socket' }, { type: 'streams_lost' }]);
    case 'diagnosed':
      if (s.kind !== 'diagnosing') return stay;
      if (e.diagnosis.kind === 'permanent') return closing(e.diagnosis.error);
      return backoff(s.socket, s.attempt, `${s.failure} (${e.diagnosis.detail})`, ctx, []);
    case 'subscription_refused':
      if (s.kind !== 'subscribing' && s.kind !== 'open') return stay;
      return closing(e.error);
  }
}

function backoff(
  socket: number,
  attempt: number,
  failure: string,
  ctx: ConnectionContext,
  effects: ConnectionEffect[],
): ConnectionTransition {
  const at = ctx.now + ctx.backoffDelay(attempt);
  return {
    state: { kind: 'backoff', socket, attempt, retryAt: at, failure },
    effects: [...effects, { type: 'schedule_retry', socket, at }],
  };
}

function closing(error: SyncClientError | undefined): ConnectionTransition {
  return { state: error ? { kind: 'closing', error } : { kind: 'closing' }, effects: [{ type: 'drain' }] };
}

function closedWith(error: SyncClientError | undefined): ConnectionState {
  return error ? { kind: 'closed', error } : { kind: 'closed' };
}

const withError = (error: SyncClientError | undefined) => (error ? { error } : {});
