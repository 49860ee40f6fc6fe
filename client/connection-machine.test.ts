import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { specCells } from '../shared/machine-spec.js';
import { SyncClientError } from './client-error.js';
import {
  type ConnectionContext,
  type ConnectionEvent,
  type ConnectionKind,
  type ConnectionState,
  INITIAL_CONNECTION,
  transitionConnection,
} from './connection-machine.js';
import { CONNECTION_SPEC, type ConnectionCase } from './connection-spec.js';

const ctx: ConnectionContext = { now: 1_000, backoffDelay: (attempt) => 100 * (attempt + 1) };
const denied = new SyncClientError('unauthenticated', 'token refused');

/** One representative state per kind, all on socket 7. */
const SAMPLE: Record<ConnectionKind, ConnectionState> = {
  connecting: { kind: 'connecting', socket: 7, attempt: 2 },
  diagnosing: { kind: 'diagnosing', socket: 7, attempt: 2, failure: 'connect error' },
  subscribing: { kind: 'subscribing', socket: 7 },
  open: { kind: 'open', socket: 7 },
  backoff: { kind: 'backoff', socket: 7, attempt: 2, retryAt: 1_300, failure: 'lost' },
  closing: { kind: 'closing' },
  closed: { kind: 'closed' },
};

/** One representative event per case, naming the samples' socket (except the stale one). */
const EVENT: Record<ConnectionCase, ConnectionEvent> = {
  socket_created: { type: 'socket_created', socket: 7 },
  socket_opened: { type: 'socket_opened', socket: 7 },
  stream_rows_applied: { type: 'stream_rows_applied', socket: 7 },
  connect_failed: { type: 'connect_failed', socket: 7, failure: 'connect error: fetch failed' },
  socket_lost: { type: 'socket_lost', socket: 7, failure: 'disconnected' },
  'diagnosed (transient)': {
    type: 'diagnosed',
    socket: 7,
    diagnosis: { kind: 'transient', detail: 'nothing listens' },
  },
  'diagnosed (permanent)': { type: 'diagnosed', socket: 7, diagnosis: { kind: 'permanent', error: denied } },
  subscription_refused: {
    type: 'subscription_refused',
    socket: 7,
    error: new SyncClientError('subscription_refused', 'no such table'),
  },
  retry_due: { type: 'retry_due', socket: 7 },
  'event from an earlier socket': { type: 'socket_lost', socket: 6, failure: 'late callback' },
  close_requested: { type: 'close_requested' },
  fatal: { type: 'fatal', error: new SyncClientError('rebootstrap_loop', 'loop') },
  drained: { type: 'drained' },
};

describe('connection machine', () => {
  const cells = specCells(CONNECTION_SPEC);

  it.each(cells)('%s in %s → %s', (c, k, expected) => {
    const before = SAMPLE[k];
    const { state, effects } = transitionConnection(before, EVENT[c], ctx);
    if (expected === '·') {
      // Refused: the very same state, nothing to do.
      expect(state).toBe(before);
      expect(effects).toEqual([]);
    } else {
      expect(state.kind).toBe(expected);
    }
  });

  it('every event from an earlier socket is refused in every socket state', () => {
    const stale: ConnectionEvent[] = [
      { type: 'socket_created', socket: 6 },
      { type: 'socket_opened', socket: 6 },
      { type: 'stream_rows_applied', socket: 6 },
      { type: 'connect_failed', socket: 6, failure: 'x' },
      { type: 'diagnosed', socket: 6, diagnosis: { kind: 'permanent', error: denied } },
      { type: 'subscription_refused', socket: 6, error: denied },
      { type: 'retry_due', socket: 6 },
    ];
    for (const k of ['connecting', 'diagnosing', 'subscribing', 'open', 'backoff'] as const) {
      for (const e of stale) expect(transitionConnection(SAMPLE[k], e, ctx).state).toBe(SAMPLE[k]);
    }
  });

  it('a lost connection backs off from attempt 0 and exposes when it retries; the retry opens the next socket', () => {
    const lost = transitionConnection(SAMPLE.open, EVENT.socket_lost, ctx);
    expect(lost.state).toEqual({
      kind: 'backoff',
      socket: 7,
      attempt: 0,
      retryAt: 1_100,
      failure: 'disconnected',
    });
    expect(lost.effects).toEqual([
      { type: 'drop_socket' },
      { type: 'streams_lost' },
      { type: 'schedule_retry', socket: 7, at: 1_100 },
    ]);
    const retry = transitionConnection(lost.state, { type: 'retry_due', socket: 7 }, ctx);
    expect(retry.state).toEqual({ kind: 'connecting', socket: 8, attempt: 1 });
    expect(retry.effects).toEqual([{ type: 'open_socket', socket: 8 }]);
  });

  it('the subscriptions are queued once the socket’s session exists, before it opens; a failed attempt lets the streams go', () => {
    const created = transitionConnection(SAMPLE.connecting, EVENT.socket_created, ctx);
    expect(created.state).toEqual({ ...SAMPLE.connecting, asked: true });
    expect(created.effects).toEqual([
      { type: 'subscribe_stream_rows', socket: 7 },
      { type: 'start_streams' },
    ]);
    // Once per socket.
    expect(transitionConnection(created.state, EVENT.socket_created, ctx).state).toBe(created.state);
    expect(transitionConnection(created.state, EVENT.socket_opened, ctx)).toEqual({
      state: { kind: 'subscribing', socket: 7 },
      effects: [],
    });
    expect(transitionConnection(created.state, EVENT.connect_failed, ctx).effects).toContainEqual({
      type: 'streams_lost',
    });
  });

  it('a failed attempt is diagnosed first; transient backs off longer with each attempt, permanent closes with the error', () => {
    const failed = transitionConnection(SAMPLE.connecting, EVENT.connect_failed, ctx);
    expect(failed.effects).toContainEqual({
      type: 'diagnose',
      socket: 7,
      failure: 'connect error: fetch failed',
    });
    const transient = transitionConnection(failed.state, EVENT['diagnosed (transient)'], ctx);
    expect(transient.state).toMatchObject({ kind: 'backoff', attempt: 2, retryAt: 1_300 });
    const permanent = transitionConnection(failed.state, EVENT['diagnosed (permanent)'], ctx);
    expect(permanent.state).toEqual({ kind: 'closing', error: denied });
    expect(permanent.effects).toEqual([{ type: 'drain' }]);
    const closed = transitionConnection(permanent.state, { type: 'drained' }, ctx);
    expect(closed.state).toEqual({ kind: 'closed', error: denied });
    expect(closed.effects).toEqual([{ type: 'finish', error: denied }]);
  });

  it('under any sequence of events: closed absorbs, only backoff has a retry time, sockets never go back', () => {
    const events = Object.values(EVENT).concat([
      { type: 'socket_opened', socket: 8 },
      { type: 'stream_rows_applied', socket: 8 },
      { type: 'retry_due', socket: 8 },
      { type: 'socket_lost', socket: 8, failure: 'x' },
    ]);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events), { maxLength: 40 }), (seq) => {
        let s: ConnectionState = INITIAL_CONNECTION;
        let lastSocket = 1;
        for (const e of seq) {
          const before = s;
          s = transitionConnection(s, e, ctx).state;
          if (before.kind === 'closed') expect(s).toBe(before);
          if ('socket' in s) {
            expect(s.socket).toBeGreaterThanOrEqual(lastSocket);
            lastSocket = s.socket;
          }
          expect('retryAt' in s).toBe(s.kind === 'backoff');
        }
      }),
    );
  });
});
