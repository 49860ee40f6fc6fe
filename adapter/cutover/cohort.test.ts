import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cohortBucket, laneFor } from './cohort.js';

const canary = (percent: number) => ({ kind: 'canary', percent }) as const;

describe('cohort routing', () => {
  it('puts every client in one of 100 buckets', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (id) => [...Array(100).keys()].includes(cohortBucket(id))),
    );
  });

  it('a client in the canary stays in it as the percentage grows (no flapping)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.integer({ min: 1, max: 99 }),
        fc.integer({ min: 1, max: 99 }),
        (id, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          return laneFor(id, canary(lo)).lane === 'legacy' || laneFor(id, canary(hi)).lane === 'spacetime';
        },
      ),
    );
  });

  it('routes nobody before the canary, everybody from primary on, about the percentage in between', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `device-${i}`);
    const share = (s: Parameters<typeof laneFor>[1]) =>
      ids.filter((id) => laneFor(id, s).lane === 'spacetime').length / ids.length;
    expect(share({ kind: 'legacy_only' })).toBe(0);
    expect(share({ kind: 'shadow' })).toBe(0);
    expect(share({ kind: 'spacetime_primary' })).toBe(1);
    expect(share({ kind: 'legacy_retired' })).toBe(1);
    expect(share(canary(10))).toBeGreaterThan(0.07);
    expect(share(canary(10))).toBeLessThan(0.13);
    expect(share(canary(50))).toBeGreaterThan(0.46);
    expect(share(canary(50))).toBeLessThan(0.54);
  });
});
