/**
 * The SpacetimeDB writer's connection lifecycle as a tagged union with one pure transition function
 * (the shape of client/connection-machine.ts). SpacetimeWriter (./writer.ts) feeds it the SDK's
 * callbacks and carries out the effects it returns. Every socket event names its socket; one from an
 * earlier socket changes nothing, so a late callback of a dropped connection cannot move the writer.
 * `WRITER_SPEC` (./writer-spec.ts) is the table the tests drive and adapter/STATE-MACHINE.md shows.
 */

export type WriterState =
  /** Socket `socket` is opening; `attempt` failures since the writer was last connected. */
  | { readonly kind: 'connecting'; readonly socket: number; readonly attempt: number }
  /** Connected; subscribing to the tables the writer reads (streams, cursors, receipts). */
  | { readonly kind: 'subscribing'; readonly socket: number; readonly attempt: number }
  /** Subscribed: appends go out on this socket. */
  | { readonly kind: 'connected'; readonly socket: number }
  /** Waiting for the backoff delay before opening socket `socket + 1`. */
  | {
      readonly kind: 'backoff';
      readonly socket: number;
      readonly attempt: number;
      readonly failure: string;
    }
  /** close() was called: calls already queued finish on `socket`, nothing reconnects. */
  | { readonly kind: 'closing'; readonly socket: number }
  | { readonly kind: 'closed' };

export type WriterKind = WriterState['kind'];

export type WriterEvent =
  | { readonly type: 'socket_opened'; readonly socket: number }
  | { readonly type: 'subscription_applied'; readonly socket: number }
  /** A connect error, a disconnect or a refused subscription. */
  | { readonly type: 'socket_lost'; readonly socket: number; readonly failure: string }
  | { readonly type: 'retry_due'; readonly socket: number }
  | { readonly type: 'close' }
  /** The calls queued before close() finished. */
  | { readonly type: 'drained' };

export type WriterEffect =
  | { readonly type: 'open_socket'; readonly socket: number }
  | { readonly type: 'subscribe'; readonly socket: number }
  /** Wakes whoever waits for the writer to be connected. */
  | { readonly type: 'mark_ready' }
  /** The calls in flight (up to the window, ./call-window.ts) can get no answer on a lost socket: fail them all now (retrying is safe, appends are idempotent). */
  | { readonly type: 'fail_in_flight'; readonly failure: string }
  | { readonly type: 'schedule_retry'; readonly socket: number; readonly attempt: number }
  | { readonly type: 'cancel_retry' }
  /** Wait for the queued calls, then report `drained`. */
  | { readonly type: 'drain' }
  | { readonly type: 'drop_socket' };

export interface WriterTransition {
  readonly state: WriterState;
  readonly effects: readonly WriterEffect[];
}

export const INITIAL_WRITER: WriterState = { kind: 'connecting', socket: 1, attempt: 0 };
export const INITIAL_WRITER_EFFECTS: readonly WriterEffect[] = [{ type: 'open_socket', socket: 1 }];

export function transitionWriter(s: WriterState, e: WriterEvent): WriterTransition {
  const stay: WriterTransition = { state: s, effects: [] };
  if (s.kind === 'closed') return stay;
  if (s.kind === 'closing') {
    if (e.type === 'drained') return { state: { kind: 'closed' }, effects: [{ type: 'drop_socket' }] };
    // Calls still in flight on a socket that dropped would otherwise wait out their timeout.
    if (e.type === 'socket_lost' && e.socket === s.socket) {
      return { state: s, effects: [{ type: 'fail_in_flight', failure: e.failure }] };
    }
    return stay;
  }
  switch (e.type) {
    case 'close':
      return {
        state: { kind: 'closing', socket: s.socket },
        effects: [{ type: 'cancel_retry' }, { type: 'drain' }],
      };
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
    case 'socket_opened':
      if (s.kind !== 'connecting') return stay;
      return {
        state: { kind: 'subscribing', socket: s.socket, attempt: s.attempt },
        effects: [{ type: 'subscribe', socket: s.socket }],
      };
    case 'subscription_applied':
      if (s.kind !== 'subscribing') return stay;
      return { state: { kind: 'connected', socket: s.socket }, effects: [{ type: 'mark_ready' }] };
    case 'socket_lost': {
      // Consecutive failures back off further; a connection that worked starts over.
      const attempt = s.kind === 'connected' ? 0 : s.attempt;
      return {
        state: { kind: 'backoff', socket: s.socket, attempt, failure: e.failure },
        effects: [
          ...(s.kind === 'connected' ? [{ type: 'fail_in_flight', failure: e.failure } as const] : []),
          { type: 'drop_socket' },
          { type: 'schedule_retry', socket: s.socket, attempt },
        ],
      };
    }
  }
}

/** What operators see (AdminService, `status`). */
export function reportedWriterState(s: WriterState): 'connected' | 'reconnecting' | 'closed' {
  if (s.kind === 'connected') return 'connected';
  return s.kind === 'closing' || s.kind === 'closed' ? 'closed' : 'reconnecting';
}
