import { describe, expect, it } from 'vitest';
import { DeliveryPlan, type PendingRow, REFUSAL_BACKOFF, refusalDelay } from './delivery-plan.js';

const row = (id: number): PendingRow => ({
  outboxId: BigInt(id),
  maxAttempts: 3,
  entry: {
    bridgeKey: `k${id}`,
    streamId: 's',
    seq: 0n,
    kind: 1,
    payload: new Uint8Array(),
    createdAtMicros: BigInt(id),
  },
});
const ids = (rows: PendingRow[]) => rows.map((r) => Number(r.outboxId));

describe('DeliveryPlan', () => {
  it('hands each relay the rows it has not settled, never one already in flight or awaiting its record', () => {
    const plan = new DeliveryPlan();
    for (const id of [1, 2, 3]) plan.upsertRow(row(id));
    plan.recordDelivery(1n, 'a', { status: 'sent', attempts: 0 });
    expect(ids(plan.due('a', 0, 10))).toEqual([2, 3]);
    expect(ids(plan.due('b', 0, 10))).toEqual([1, 2, 3]);
    plan.started(2n, 'a');
    expect(ids(plan.due('a', 0, 10))).toEqual([3]);
    plan.answered(2n, 'a', false, 0);
    expect(ids(plan.due('a', 0, 10))).toEqual([3]);
    plan.committed([{ outboxId: 2n, relay: 'a' }]);
    plan.recordDelivery(2n, 'a', { status: 'sent', attempts: 0 });
    expect(ids(plan.due('a', 0, 10))).toEqual([3]);
    expect(ids(plan.due('b', 0, 1))).toEqual([1]);
  });

  it('holds a refused delivery back for the refusal backoff, and only that delivery', () => {
    const plan = new DeliveryPlan(() => 0);
    plan.upsertRow(row(1));
    plan.upsertRow(row(2));
    plan.started(1n, 'a');
    plan.answered(1n, 'a', true, 1_000);
    plan.committed([{ outboxId: 1n, relay: 'a' }]);
    plan.recordDelivery(1n, 'a', { status: 'pending', attempts: 1 });
    expect(ids(plan.due('a', 1_000, 10))).toEqual([2]);
    expect(plan.nextRetryAt(1_000)).toBe(1_000 + REFUSAL_BACKOFF.baseMs / 2);
    expect(ids(plan.due('a', 1_000 + REFUSAL_BACKOFF.baseMs / 2, 10))).toEqual([1, 2]);
    expect(ids(plan.due('b', 1_000, 10))).toEqual([1, 2]);
  });

  it('puts an unanswered publish back at once and counts the next publish as a retry', () => {
    const plan = new DeliveryPlan();
    plan.upsertRow(row(1));
    expect(plan.started(1n, 'a')).toBe(false);
    plan.unanswered(1n, 'a');
    expect(ids(plan.due('a', 0, 10))).toEqual([1]);
    expect(plan.started(1n, 'a')).toBe(true);
  });

  it("drops a row's backoff and retry count when the row leaves, and keeps the other rows", () => {
    const plan = new DeliveryPlan(() => 0);
    for (const id of [1, 2]) {
      plan.upsertRow(row(id));
      plan.started(BigInt(id), 'a');
      plan.answered(BigInt(id), 'a', true, 1_000 * id);
      plan.committed([{ outboxId: BigInt(id), relay: 'a' }]);
    }
    expect(plan.nextRetryAt(0)).toBe(1_000 + REFUSAL_BACKOFF.baseMs / 2);
    plan.removeRow(1n);
    expect(plan.nextRetryAt(0)).toBe(2_000 + REFUSAL_BACKOFF.baseMs / 2);
    // Reopened by an operator, the row comes back: its next publish is a first one again.
    plan.upsertRow(row(1));
    expect(ids(plan.due('a', 0, 10))).toEqual([1]);
    expect(plan.started(1n, 'a')).toBe(false);
    expect(plan.started(2n, 'a')).toBe(true);
  });

  it('forgets what a lost connection showed, and reports depth and the oldest pending row', () => {
    const plan = new DeliveryPlan();
    plan.upsertRow(row(5));
    plan.upsertRow(row(3));
    expect(plan.depth).toBe(2);
    expect(plan.oldestPendingMicros()).toBe(3n);
    plan.removeRow(3n);
    expect(plan.oldestPendingMicros()).toBe(5n);
    plan.forgetModuleView();
    expect(plan.depth).toBe(0);
    expect(plan.due('a', 0, 10)).toEqual([]);
  });
});

describe('refusalDelay', () => {
  it('waits at least half the capped exponential ceiling and at most all of it', () => {
    expect(refusalDelay(1, () => 0)).toBe(500);
    expect(refusalDelay(1, () => 0.999_999)).toBeLessThanOrEqual(1_000);
    expect(refusalDelay(3, () => 0)).toBe(2_000);
    expect(refusalDelay(40, () => 0.999_999)).toBeLessThanOrEqual(REFUSAL_BACKOFF.capMs);
    expect(refusalDelay(40, () => 0)).toBe(REFUSAL_BACKOFF.capMs / 2);
  });
});
