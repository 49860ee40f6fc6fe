import { describe, expect, it } from 'vitest';
import { specCells } from '../../shared/machine-spec.js';
import { isReady, reported, type SourceEvent, type SourceState, transition } from './lifecycle.js';
import { KAFKA_SOURCE_SPEC, type SourceCase } from './lifecycle-spec.js';

const idle: SourceState = { kind: 'idle' };
const starting: SourceState = { kind: 'starting' };
const running: SourceState = { kind: 'running', activity: 'consuming' };
const restarting: SourceState = { kind: 'restarting', why: 'stalled' };
const crashed: SourceState = { kind: 'crashed', error: 'boom' };
const stopping: SourceState = { kind: 'stopping' };
const stopped: SourceState = { kind: 'stopped' };
const STATES = { idle, starting, running, restarting, crashed, stopping, stopped };

/** One representative event per case of the spec. */
const EVENTS: Record<SourceCase, SourceEvent> = {
  start: { type: 'start' },
  started: { type: 'started' },
  activity: { type: 'activity', activity: 'paused' },
  crash: { type: 'crash', error: 'boom', retrying: false },
  'crash (kafkajs retries)': { type: 'crash', error: 'blip', retrying: true },
  restart: { type: 'restart', why: 'stalled' },
  stop: { type: 'stop' },
  stopped: { type: 'stopped' },
};

describe('Kafka source lifecycle', () => {
  const cells = specCells(KAFKA_SOURCE_SPEC);

  it.each(cells)('%s in %s → %s', (c, k, expected) => {
    const next = transition(STATES[k], EVENTS[c]);
    if (expected === '·') expect(next).toBeUndefined();
    else expect(next?.kind).toBe(expected);
  });

  it('lets a stop that lands during a watchdog restart win: the restarted consumer cannot come up', () => {
    const during = transition(restarting, { type: 'stop' });
    expect(during).toEqual(stopping);
    expect(transition(during as SourceState, { type: 'started' })).toBeUndefined();
    expect(transition(during as SourceState, { type: 'restart', why: 'stalled' })).toBeUndefined();
  });

  it('is not ready once the consumer crashed for good, and is ready again after the watchdog restarted it', () => {
    const down = transition(running, { type: 'crash', error: 'group coordinator gone', retrying: false });
    expect([down, isReady(down as SourceState), reported(down as SourceState)]).toEqual([
      { kind: 'crashed', error: 'group coordinator gone' },
      false,
      'crashed',
    ]);
    const back = transition(
      transition(down as SourceState, { type: 'restart', why: 'crashed' }) as SourceState,
      {
        type: 'started',
      },
    );
    expect([isReady(back as SourceState), reported(back as SourceState)]).toEqual([true, 'connecting']);
  });

  it('accepts `started` after kafkajs restarted a consumer that crashed while it was coming up', () => {
    // A fresh broker answers "the coordinator is loading" to the first join: kafkajs retries, then
    // run() returns and start() reports `started`, which must still be accepted.
    const blip = transition(starting, { type: 'crash', error: 'coordinator loading', retrying: true });
    expect(transition(blip as SourceState, { type: 'started' })).toEqual({
      kind: 'running',
      activity: 'connecting',
    });
    const again = transition(restarting, { type: 'crash', error: 'coordinator loading', retrying: true });
    expect(transition(again as SourceState, { type: 'started' })?.kind).toBe('running');
  });

  it('keeps what a consumer reported while it was coming up (kafkajs joins the group inside run)', () => {
    const joined = transition(starting, { type: 'activity', activity: 'consuming' }) as SourceState;
    expect(transition(joined, { type: 'started' })).toEqual({ kind: 'running', activity: 'consuming' });
  });

  it('reports what operators see: the activity while running, connecting while (re)starting', () => {
    expect(Object.values(STATES).map(reported)).toEqual([
      'connecting',
      'connecting',
      'consuming',
      'connecting',
      'crashed',
      'stopped',
      'stopped',
    ]);
    expect(Object.values(STATES).map(isReady)).toEqual([false, false, true, false, false, false, false]);
  });
});
