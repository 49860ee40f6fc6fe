import { describe, expect, it } from 'vitest';
import { planRetention, type RetainedEvent } from './retention-plan.ts';

const events = (n: number, key: (seq: number) => string | undefined = () => undefined): RetainedEvent[] =>
  Array.from({ length: n }, (_, i) => ({ seq: BigInt(i + 1), compaction_key: key(i + 1) }));

describe('planRetention', () => {
  it('keeps everything when the policy is off', () => {
    expect(planRetention(events(10), 10n, 1n, { retain_min_events: 0n, compact_by_key: false }, [])).toEqual({
      deleteSeqs: [],
      lowWatermark: 1n,
      bumpEpoch: false,
    });
  });

  it('keeps the newest window and advances the low watermark to its start', () => {
    const plan = planRetention(events(10), 10n, 1n, { retain_min_events: 4n, compact_by_key: false }, []);
    expect(plan.deleteSeqs).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    expect(plan.lowWatermark).toBe(7n);
    expect(plan.bumpEpoch).toBe(false);
  });

  it('bumps the epoch only when a checkpoint pointed into deleted history', () => {
    const policy = { retain_min_events: 4n, compact_by_key: false };
    // A client at watermark 6 needs seq 7 onwards: still there.
    expect(planRetention(events(10), 10n, 1n, policy, [6n, 9n]).bumpEpoch).toBe(false);
    // A client at watermark 5 needs seq 6, which goes.
    expect(planRetention(events(10), 10n, 1n, policy, [5n]).bumpEpoch).toBe(true);
  });

  it('keeps the newest event per compaction key below the window', () => {
    const key = (s: number) => (s <= 6 ? (s % 2 === 0 ? 'even' : 'odd') : undefined);
    const plan = planRetention(events(10, key), 10n, 1n, { retain_min_events: 4n, compact_by_key: true }, []);
    // Survivors 5 (odd) and 6 (even) sit right below the window, so the contiguous suffix starts at 5.
    expect(plan.deleteSeqs).toEqual([1n, 2n, 3n, 4n]);
    expect(plan.lowWatermark).toBe(5n);
  });

  it('does not move the watermark backwards', () => {
    const ev = events(10).filter((e) => e.seq >= 5n);
    const plan = planRetention(ev, 10n, 5n, { retain_min_events: 8n, compact_by_key: false }, []);
    expect(plan).toEqual({ deleteSeqs: [], lowWatermark: 5n, bumpEpoch: false });
  });
});
