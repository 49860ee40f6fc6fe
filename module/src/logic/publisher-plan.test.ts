import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planPublisher } from './publisher-plan.ts';

describe('planPublisher', () => {
  it('applies exactly last + 1, treats anything at or below last as a retry, refuses anything beyond', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1n << 40n }),
        fc.bigInt({ min: 1n, max: 1n << 41n }),
        (last, seq) => {
          const d = planPublisher(last, seq);
          if (seq === last + 1n) expect(d).toEqual({ kind: 'apply' });
          else if (seq <= last) expect(d).toEqual({ kind: 'retry', last });
          else expect(d).toEqual({ kind: 'ahead', expected: last + 1n });
        },
      ),
    );
  });
});
