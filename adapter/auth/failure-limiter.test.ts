import { describe, expect, it } from 'vitest';
import { ErrorReason } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { REASONS } from '../../shared/errors/reasons.js';
import { FailureLimiter } from './failure-limiter.js';

function clocked(limits = { burst: 3, windowMs: 60_000, maxPeers: 100 }) {
  let t = 1_000_000;
  const limiter = new FailureLimiter(limits, () => t);
  return { limiter, advance: (ms: number) => (t += ms) };
}

describe('failed authentications per peer', () => {
  it('a peer may fail `burst` times; then it is refused, retryable, with the time to its next try', () => {
    const { limiter } = clocked();
    for (let i = 0; i < 3; i++) {
      expect(limiter.check('10.0.0.1', 'publish')).toBeUndefined();
      limiter.failed('10.0.0.1');
    }
    const refused = limiter.check('10.0.0.1', 'publish');
    expect(refused?.reason).toBe('resource_exhausted');
    expect(REASONS.resource_exhausted.proto).toBe(ErrorReason.RESOURCE_EXHAUSTED);
    expect(refused?.retryable).toBe(true);
    // One failure refills in window / burst = 20 s.
    expect(refused?.detail).toMatchObject({ limit: 'failed authentications', max: 3n });
    expect(refused?.detail?.retryAfter?.seconds).toBe(20n);
    expect(refused?.message).toMatch(/retry in 20000 ms/);
    // Another address is not affected.
    expect(limiter.check('10.0.0.2', 'publish')).toBeUndefined();
  });

  it('refills over time: after the hinted wait one more try is allowed, after the window all are', () => {
    const { limiter, advance } = clocked();
    for (let i = 0; i < 3; i++) limiter.failed('p');
    advance(19_999);
    expect(limiter.check('p', 'x')).toBeDefined();
    advance(1);
    expect(limiter.check('p', 'x')).toBeUndefined();
    limiter.failed('p');
    expect(limiter.check('p', 'x')).toBeDefined();
    advance(60_000);
    expect(limiter.check('p', 'x')).toBeUndefined();
    // A refilled bucket is forgotten: no state kept for a peer that behaves.
    expect(limiter.size).toBe(0);
  });

  it('keeps at most maxPeers buckets however many addresses fail, dropping the least recent', () => {
    const { limiter } = clocked({ burst: 1, windowMs: 60_000, maxPeers: 100 });
    limiter.failed('attacker');
    for (let i = 0; i < 50_000; i++) limiter.failed(`spray-${i}`);
    expect(limiter.size).toBe(100);
    expect(limiter.check('spray-49999', 'x')).toBeDefined();
    expect(limiter.check('attacker', 'x')).toBeUndefined();
  });
});

describe('which peer the bound forgets', () => {
  it('the least recently failed: a new failure keeps a peer, a check does not', () => {
    const { limiter } = clocked({ burst: 3, windowMs: 60_000, maxPeers: 2 });
    limiter.failed('a');
    limiter.failed('a');
    limiter.failed('a');
    limiter.failed('b');
    // a failed again after b: b is now the least recently failed and goes for c.
    limiter.failed('a');
    limiter.failed('c');
    expect(limiter.size).toBe(2);
    expect(limiter.check('a', 'x'), 'a is still limited').toBeDefined();
    // Asking again and again is not failing: a is forgotten for d although it was just checked.
    limiter.failed('c');
    limiter.check('a', 'x');
    limiter.failed('d');
    expect(limiter.size).toBe(2);
    expect(limiter.check('a', 'x'), 'a was forgotten').toBeUndefined();
  });
});
