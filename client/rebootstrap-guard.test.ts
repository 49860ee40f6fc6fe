import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../shared/backoff.js';
import { RebootstrapGuard, RebootstrapLoopError } from './rebootstrap-guard.js';

describe('RebootstrapGuard', () => {
  it('spreads rebootstraps with a jittered delay inside the policy bounds', () => {
    const delays = new Set<number>();
    const guard = new RebootstrapGuard({
      minDelayMs: 100,
      maxDelayMs: 1000,
      maxInWindow: 1000,
      windowMs: 1000,
    });
    for (let i = 0; i < 200; i++) {
      const d = guard.admit(`s${i}`);
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThan(1000);
      delays.add(d);
    }
    expect(delays.size).toBeGreaterThan(50);
  });

  it('stops a stream that keeps rebootstrapping within the window, but not one that recovers', () => {
    let now = 0;
    const guard = new RebootstrapGuard(
      { minDelayMs: 0, maxDelayMs: 1, maxInWindow: 3, windowMs: 10_000 },
      () => now,
    );
    for (let i = 0; i < 3; i++) guard.admit('hot');
    expect(() => guard.admit('hot')).toThrow(RebootstrapLoopError);
    for (let i = 0; i < 3; i++) {
      guard.admit('slow');
      now += 5_000;
    }
    expect(() => guard.admit('slow')).not.toThrow();
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap and never exceeds it', () => {
    const max = (attempt: number) => backoffDelay(attempt, { baseMs: 100, capMs: 5_000 }, () => 0.999999);
    expect(max(0)).toBe(99);
    expect(max(3)).toBe(799);
    expect(max(20)).toBe(4999);
    expect(backoffDelay(5, { baseMs: 100, capMs: 5_000 }, () => 0)).toBe(0);
  });
});
