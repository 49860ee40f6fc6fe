import { describe, expect, it } from 'vitest';
import { specCells } from '../../shared/machine-spec.js';
import { type ProbeEvent, type ProbeKind, type ProbeState, transitionProbe } from './probe-machine.js';
import { PROBE_SPEC, type ProbeCase } from './probe-spec.js';

/** One representative state per kind, on socket 3, retention not yet set. */
const SAMPLE: Record<ProbeKind, ProbeState> = {
  idle: { kind: 'idle' },
  connecting: { kind: 'connecting', socket: 3, configured: false },
  watching: { kind: 'watching', socket: 3, configured: false },
  waiting: { kind: 'waiting', socket: 3, configured: false },
  stopped: { kind: 'stopped' },
};

const EVENT: Record<ProbeCase, ProbeEvent> = {
  start: { type: 'start' },
  subscribed: { type: 'subscribed', socket: 3 },
  socket_lost: { type: 'socket_lost', socket: 3 },
  retry_due: { type: 'retry_due', socket: 3 },
  'event from an earlier socket': { type: 'subscribed', socket: 2 },
  'configured (first time)': { type: 'configured' },
  stop: { type: 'stop' },
};

describe('delivery probe machine', () => {
  const cells = specCells(PROBE_SPEC);

  it.each(cells)('%s in %s → %s', (c, k, expected) => {
    const before = SAMPLE[k];
    const { state, effects } = transitionProbe(before, EVENT[c]);
    if (expected === '·') {
      expect(state).toBe(before);
      expect(effects).toEqual([]);
    } else {
      expect(state.kind).toBe(expected);
    }
  });

  it('starts its ticks and first socket together; a dropped socket is replaced by the next one after a wait', () => {
    const started = transitionProbe(SAMPLE.idle, EVENT.start);
    expect(started.effects).toEqual([{ type: 'open_socket', socket: 1 }, { type: 'start_ticks' }]);
    const lost = transitionProbe({ kind: 'watching', socket: 3, configured: true }, EVENT.socket_lost);
    expect(lost.effects).toEqual([{ type: 'drop_socket' }, { type: 'schedule_reconnect', socket: 3 }]);
    const retry = transitionProbe(lost.state, EVENT.retry_due);
    // The retention setting is remembered: it is set once, not on every reconnect.
    expect(retry.state).toEqual({ kind: 'connecting', socket: 4, configured: true });
    expect(retry.effects).toEqual([{ type: 'open_socket', socket: 4 }]);
  });

  it('stop() ends timers and socket from any live state; nothing moves it afterwards', () => {
    for (const k of ['idle', 'connecting', 'watching', 'waiting'] as const) {
      const stopped = transitionProbe(SAMPLE[k], EVENT.stop);
      expect(stopped.effects).toEqual([{ type: 'stop_all' }, { type: 'drop_socket' }]);
      for (const e of Object.values(EVENT))
        expect(transitionProbe(stopped.state, e).state).toBe(stopped.state);
    }
  });
});
