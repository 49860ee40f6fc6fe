import { describe, expect, it } from 'vitest';
import { createTxClock } from './tx-clock.js';

describe('createTxClock', () => {
  it('follows the wall clock while it moves forward', () => {
    const wall = [1_000n, 1_500n, 9_000n];
    const clock = createTxClock(() => wall.shift() as bigint);
    expect([clock(), clock(), clock()]).toEqual([1_000n, 1_500n, 9_000n]);
  });

  it('stays strictly increasing when the wall clock stalls or steps back', () => {
    const wall = [5_000n, 5_000n, 4_000n, 5_001n, 7_000n];
    const clock = createTxClock(() => wall.shift() as bigint);
    expect([clock(), clock(), clock(), clock(), clock()]).toEqual([5_000n, 5_001n, 5_002n, 5_003n, 7_000n]);
  });

  it('reads real microseconds since the Unix epoch by default', () => {
    const clock = createTxClock();
    const nowMicros = BigInt(Date.now()) * 1000n;
    const t = clock();
    expect(t > nowMicros - 5_000_000n && t < nowMicros + 5_000_000n).toBe(true);
    expect(clock() > t).toBe(true);
  });
});
