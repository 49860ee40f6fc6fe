import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamApplier } from './stream-applier.js';

const ev = (seq: bigint) => ({ seq });

describe('StreamApplier', () => {
  it('delivers any interleaving of duplicates and reorderings exactly once, in seq order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.nat(), { maxLength: 120 }),
        fc.integer({ min: 1, max: 8 }),
        (start, n, dupIdx, chunk) => {
          const seqs = Array.from({ length: n }, (_, i) => BigInt(start + 1 + i));
          const offered = [
            ...seqs,
            ...dupIdx.map((i) => seqs[i % n] as bigint),
            ...seqs.slice(0, 3).map((s) => s - 10n),
          ];
          // Deterministic shuffle from the duplicate indexes.
          const shuffled = offered
            .map((s, i) => ({ s, k: (i * 7919 + (dupIdx[i % (dupIdx.length || 1)] ?? 0)) % 101 }))
            .sort((a, b) => a.k - b.k);
          const applier = new StreamApplier<{ seq: bigint }>(BigInt(start));
          const delivered: bigint[] = [];
          for (let i = 0; i < shuffled.length; i += chunk) {
            delivered.push(
              ...applier.offer(shuffled.slice(i, i + chunk).map((x) => ev(x.s))).deliver.map((e) => e.seq),
            );
          }
          expect(delivered).toEqual(seqs);
          expect(applier.watermark).toBe(BigInt(start + n));
          expect(applier.pendingCount).toBe(0);
        },
      ),
    );
  });

  it('holds back events after a gap and names the missing range', () => {
    const applier = new StreamApplier<{ seq: bigint }>(3n);
    const r = applier.offer([ev(4n), ev(7n), ev(8n)]);
    expect(r.deliver.map((e) => e.seq)).toEqual([4n]);
    expect(r.gap).toEqual({ from: 5n, to: 6n });
    const filled = applier.offer([ev(6n), ev(5n)]);
    expect(filled.deliver.map((e) => e.seq)).toEqual([5n, 6n, 7n, 8n]);
    expect(filled.gap).toBeUndefined();
  });

  it('counts duplicates and forgets held-back events on reset', () => {
    const applier = new StreamApplier<{ seq: bigint }>(0n);
    applier.offer([ev(1n), ev(3n)]);
    expect(applier.offer([ev(1n), ev(3n)]).duplicates).toBe(2);
    applier.reset(10n);
    expect(applier.pendingCount).toBe(0);
    expect(applier.offer([ev(3n), ev(11n)]).deliver.map((e) => e.seq)).toEqual([11n]);
  });
});
