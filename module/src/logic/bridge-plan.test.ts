import { describe, expect, it } from 'vitest';
import { applyAnswer, type DeliveryStatus, isPrunable, NEW_DELIVERY, outboxStatus } from './bridge-plan.ts';

const refused = (reason: string) => ({ accepted: false as const, reason });

describe('applyAnswer', () => {
  it('counts refusals and fails the delivery at max attempts, keeping the reason', () => {
    const once = applyAnswer(NEW_DELIVERY, refused('blocked: no'), 2);
    expect(once).toEqual({ status: 'pending', attempts: 1, lastError: 'blocked: no' });
    expect(applyAnswer(once, refused('blocked: still no'), 2)).toEqual({
      status: 'failed',
      attempts: 2,
      lastError: 'blocked: still no',
    });
  });

  it('an accepted answer settles the delivery; later answers change nothing until a retry', () => {
    const sent = applyAnswer(
      applyAnswer(NEW_DELIVERY, refused('rate-limited: slow down'), 3),
      { accepted: true },
      3,
    );
    expect(sent).toMatchObject({ status: 'sent', attempts: 1 });
    expect(applyAnswer(sent, refused('late'), 3)).toBe(sent);
    const failed = applyAnswer(NEW_DELIVERY, refused('blocked'), 1);
    expect(applyAnswer(failed, { accepted: true }, 1)).toBe(failed);
  });
});

describe('outboxStatus', () => {
  const of = (entries: [string, DeliveryStatus][]) => new Map(entries);

  it('is pending while a configured relay has not settled, even if it has no delivery yet', () => {
    expect(outboxStatus(['a', 'b'], of([['a', 'sent']]))).toBe('pending');
    expect(
      outboxStatus(
        ['a', 'b'],
        of([
          ['a', 'failed'],
          ['b', 'pending'],
        ]),
      ),
    ).toBe('pending');
  });

  it('is sent when every relay has it, failed when all settled and one refused for good', () => {
    expect(
      outboxStatus(
        ['a', 'b'],
        of([
          ['a', 'sent'],
          ['b', 'sent'],
        ]),
      ),
    ).toBe('sent');
    expect(
      outboxStatus(
        ['a', 'b'],
        of([
          ['a', 'sent'],
          ['b', 'failed'],
        ]),
      ),
    ).toBe('failed');
  });

  it('ignores deliveries to relays no longer configured', () => {
    expect(
      outboxStatus(
        ['a'],
        of([
          ['a', 'sent'],
          ['gone', 'failed'],
        ]),
      ),
    ).toBe('sent');
  });
});

describe('isPrunable', () => {
  it('prunes once the retention has passed since the last update', () => {
    expect(isPrunable(1_000n, 1_999n, 1_000n)).toBe(false);
    expect(isPrunable(1_000n, 2_000n, 1_000n)).toBe(true);
  });
});
