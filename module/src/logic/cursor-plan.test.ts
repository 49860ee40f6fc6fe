import { describe, expect, it } from 'vitest';
import { planCursor } from './cursor-plan.ts';

describe('planCursor (a pipelined Kafka call against the stored cursor)', () => {
  it.each([
    // stored cursor, the call's from_offset, decision
    [undefined, undefined, 'apply'], // nothing in flight before it: no check, as a single call
    [7n, undefined, 'apply'],
    [10n, 10n, 'apply'], // the predecessor committed: next in line
    [15n, 10n, 'apply'], // these messages again after a lost answer: duplicates, cursor stays
    [9n, 10n, 'ahead'], // the predecessor failed or has not committed
    [undefined, 10n, 'ahead'], // the partition's first call failed: no cursor row at all
    [0n, 1n, 'ahead'],
  ] as const)('stored %s, from %s → %s', (stored, from, kind) => {
    expect(planCursor(stored, from).kind).toBe(kind);
  });

  it('names the stored cursor when it refuses, so the refusal says where the partition stands', () => {
    expect(planCursor(4n, 9n)).toEqual({ kind: 'ahead', stored: 4n });
    expect(planCursor(undefined, 9n)).toEqual({ kind: 'ahead', stored: undefined });
  });
});
