import { describe, expect, it } from 'vitest';
import type { SourceState } from './lifecycle.js';
import { ProgressWatch, restartReason } from './watchdog.js';

describe('watchdog', () => {
  it('restarts a crashed consumer at once and a running one only once it stalled past the limit', () => {
    const cases: [SourceState, number, string | undefined][] = [
      [{ kind: 'crashed', error: 'boom' }, 0, 'crashed: boom'],
      [{ kind: 'running', activity: 'consuming' }, 999, undefined],
      [{ kind: 'running', activity: 'consuming' }, 1_000, 'no progress'],
      [{ kind: 'running', activity: 'paused' }, 5_000, 'no progress'],
      // Never while the source itself is changing the consumer, nor once it stops.
      [{ kind: 'idle' }, 5_000, undefined],
      [{ kind: 'starting' }, 5_000, undefined],
      [{ kind: 'restarting', why: 'no progress' }, 5_000, undefined],
      [{ kind: 'stopping' }, 5_000, undefined],
      [{ kind: 'stopped' }, 5_000, undefined],
    ];
    for (const [life, stalled, why] of cases)
      expect([life.kind, restartReason(life, stalled, 1_000)]).toEqual([life.kind, why]);
  });

  it('counts stalled time only while a batch runs, from the last commit', () => {
    let now = 0;
    const watch = new ProgressWatch(() => now);
    now = 10_000;
    expect(watch.stalledMs()).toBe(0); // idle is not stuck
    watch.batchStarted();
    now = 12_000;
    expect(watch.stalledMs()).toBe(12_000);
    watch.progressed();
    now = 12_500;
    expect(watch.stalledMs()).toBe(500);
    watch.batchStarted(); // a second partition's batch
    watch.batchEnded();
    now = 13_000;
    expect(watch.stalledMs()).toBe(1_000);
    watch.batchEnded();
    expect(watch.stalledMs()).toBe(0);
  });
});
