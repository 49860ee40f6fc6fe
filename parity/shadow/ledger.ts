/**
 * Shadow mode's bookkeeping: the classifier looks at everything both collectors hold, tick after
 * tick; the ledger turns each look into what is new to count, once. An event both lanes delivered is
 * counted as compared (with its time to parity) as soon as it is seen; a divergence is counted once it
 * is older than the grace window (the other lane had that long to deliver — a candidate later than that
 * is counted as missing, and compared when it arrives). What was counted and is older than the
 * retention window can be forgotten by the collectors, which keeps a long-running shadow bounded.
 */
import type { Classification, Divergence, DivergenceClass } from '../classify.js';
import { authorityKey } from '../mapping.js';

export interface LedgerDelta {
  readonly compared: number;
  /** Time to parity of each newly compared event, ms (candidate minus legacy). */
  readonly lagsMs: readonly number[];
  readonly mismatches: ReadonlyMap<DivergenceClass, number>;
}

const keyOf = (d: Divergence) =>
  d.key ? authorityKey({ ...d.key, version: BigInt(d.key.version) }) : undefined;
const divergenceId = (d: Divergence) =>
  JSON.stringify([d.class, keyOf(d) ?? d.topic, d.streamId ?? '', d.lane ?? '']);

export class ShadowLedger {
  /** authorityKey → when it was counted (compared or diverged), for forgetting. */
  private readonly countedKeys = new Map<string, number>();
  private readonly countedDivergences = new Map<string, number>();

  constructor(private readonly graceMs: number) {}

  account(c: Classification, nowMs: number): LedgerDelta {
    const lagsMs: number[] = [];
    for (const m of c.matched) {
      if (this.countedKeys.has(m.key)) continue;
      this.countedKeys.set(m.key, nowMs);
      lagsMs.push(m.lagMs);
    }
    const mismatches = new Map<DivergenceClass, number>();
    for (const d of c.divergences) {
      if (d.atMs > nowMs - this.graceMs) continue;
      const id = divergenceId(d);
      if (this.countedDivergences.has(id)) continue;
      this.countedDivergences.set(id, nowMs);
      const key = keyOf(d);
      if (key !== undefined && !this.countedKeys.has(key)) this.countedKeys.set(key, nowMs);
      mismatches.set(d.class, (mismatches.get(d.class) ?? 0) + 1);
    }
    return { compared: lagsMs.length, lagsMs, mismatches };
  }

  /** Events counted (either way) before `beforeMs`: their entries may go. */
  settled(beforeMs: number): Set<string> {
    const out = new Set<string>();
    for (const [k, at] of this.countedKeys) if (at < beforeMs) out.add(k);
    return out;
  }

  /** Forget counted things from before `beforeMs` (their entries are gone). */
  forget(beforeMs: number): void {
    for (const [k, at] of this.countedKeys) if (at < beforeMs) this.countedKeys.delete(k);
    for (const [k, at] of this.countedDivergences) if (at < beforeMs) this.countedDivergences.delete(k);
  }
}
