import { describe, expect, it } from 'vitest';
import { specCells } from '../../shared/machine-spec.js';
import {
  INITIAL_WRITER,
  reportedWriterState,
  transitionWriter,
  type WriterEvent,
  type WriterKind,
  type WriterState,
} from './writer-machine.js';
import { WRITER_SPEC, type WriterCase } from './writer-spec.js';

/** One representative state per kind, all on socket 7. */
const SAMPLE: Record<WriterKind, WriterState> = {
  connecting: { kind: 'connecting', socket: 7, attempt: 2 },
  subscribing: { kind: 'subscribing', socket: 7, attempt: 2 },
  connected: { kind: 'connected', socket: 7 },
  backoff: { kind: 'backoff', socket: 7, attempt: 2, failure: 'connect failed' },
  closing: { kind: 'closing', socket: 7 },
  closed: { kind: 'closed' },
};

const EVENT: Record<WriterCase, WriterEvent> = {
  socket_opened: { type: 'socket_opened', socket: 7 },
  subscription_applied: { type: 'subscription_applied', socket: 7 },
  socket_lost: { type: 'socket_lost', socket: 7, failure: 'disconnected' },
  retry_due: { type: 'retry_due', socket: 7 },
  'event from an earlier socket': { type: 'socket_lost', socket: 6, failure: 'late callback' },
  close: { type: 'close' },
  drained: { type: 'drained' },
};

describe('writer machine', () => {
  const cells = specCells(WRITER_SPEC);

  it.each(cells)('%s in %s → %s', (c, k, expected) => {
    const before = SAMPLE[k];
    const { state, effects } = transitionWriter(before, EVENT[c]);
    if (expected === '·') {
      // Refused: the very same state, nothing to do.
      expect(state).toBe(before);
      expect(effects).toEqual([]);
    } else {
      expect(state.kind).toBe(expected);
    }
  });

  it('connects, subscribes and only then wakes the callers waiting for it', () => {
    const opened = transitionWriter(INITIAL_WRITER, { type: 'socket_opened', socket: 1 });
    expect(opened.effects).toEqual([{ type: 'subscribe', socket: 1 }]);
    const applied = transitionWriter(opened.state, { type: 'subscription_applied', socket: 1 });
    expect(applied.state).toEqual({ kind: 'connected', socket: 1 });
    expect(applied.effects).toEqual([{ type: 'mark_ready' }]);
    expect(reportedWriterState(opened.state)).toBe('reconnecting');
    expect(reportedWriterState(applied.state)).toBe('connected');
  });

  it('a dropped connection fails the call in flight and retries from attempt 0; failed attempts back off further', () => {
    const lost = transitionWriter(SAMPLE.connected, EVENT.socket_lost);
    expect(lost.state).toEqual({ kind: 'backoff', socket: 7, attempt: 0, failure: 'disconnected' });
    expect(lost.effects).toEqual([
      { type: 'fail_in_flight', failure: 'disconnected' },
      { type: 'drop_socket' },
      { type: 'schedule_retry', socket: 7, attempt: 0 },
    ]);
    const retry = transitionWriter(lost.state, { type: 'retry_due', socket: 7 });
    expect(retry.state).toEqual({ kind: 'connecting', socket: 8, attempt: 1 });
    expect(retry.effects).toEqual([{ type: 'open_socket', socket: 8 }]);
    // No call can be in flight before the writer is connected; the next delay is longer.
    const failed = transitionWriter(retry.state, { type: 'socket_lost', socket: 8, failure: 'refused' });
    expect(failed.effects).toEqual([
      { type: 'drop_socket' },
      { type: 'schedule_retry', socket: 8, attempt: 1 },
    ]);
  });

  it('close() cancels a pending retry and drains; nothing reconnects, a late drop only fails the call in flight', () => {
    const closing = transitionWriter(SAMPLE.backoff, EVENT.close);
    expect(closing.effects).toEqual([{ type: 'cancel_retry' }, { type: 'drain' }]);
    expect(reportedWriterState(closing.state)).toBe('closed');
    expect(transitionWriter(closing.state, EVENT.retry_due).state).toBe(closing.state);
    const late = transitionWriter(closing.state, EVENT.socket_lost);
    expect(late.effects).toEqual([{ type: 'fail_in_flight', failure: 'disconnected' }]);
    const closed = transitionWriter(closing.state, EVENT.drained);
    expect(closed.state).toEqual({ kind: 'closed' });
    expect(closed.effects).toEqual([{ type: 'drop_socket' }]);
  });
});
