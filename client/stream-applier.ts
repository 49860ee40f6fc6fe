/**
 * Per-stream ordering: hands events to the application exactly once and in seq order. Duplicates
 * (at or below the watermark, or already buffered) are dropped; an event past the next expected seq
 * is held back and reported as a gap, so the caller can re-fetch the missing range — never delivered
 * out of order, never skipped silently.
 */
export interface SequencedEvent {
  readonly seq: bigint;
}

export interface ApplyResult<E> {
  /** Events to hand to the application now, in order. */
  readonly deliver: E[];
  /** Seq range missing before the held-back events, if any: [from, to] inclusive. */
  readonly gap?: { readonly from: bigint; readonly to: bigint };
  readonly duplicates: number;
}

export class StreamApplier<E extends SequencedEvent> {
  private readonly pending = new Map<bigint, E>();

  constructor(
    /** Last seq the application has applied. */
    private applied: bigint,
    /** Bound on held-back events; beyond it the oldest buffered are dropped and re-fetched later. */
    private readonly maxPending = 10_000,
  ) {}

  get watermark(): bigint {
    return this.applied;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Offer events in any order (a subscription's initial rows are unordered). */
  offer(events: Iterable<E>): ApplyResult<E> {
    let duplicates = 0;
    for (const e of events) {
      if (e.seq <= this.applied || this.pending.has(e.seq)) duplicates++;
      else this.pending.set(e.seq, e);
    }
    const deliver: E[] = [];
    for (let next = this.applied + 1n; this.pending.has(next); next++) {
      deliver.push(this.pending.get(next) as E);
      this.pending.delete(next);
      this.applied = next;
    }
    if (this.pending.size > this.maxPending) {
      // Keep the lowest seqs: they are the ones that unblock delivery once the gap is filled.
      const keep = [...this.pending.keys()].sort((a, b) => (a < b ? -1 : 1)).slice(0, this.maxPending);
      const kept = new Set(keep);
      for (const seq of [...this.pending.keys()]) if (!kept.has(seq)) this.pending.delete(seq);
    }
    if (this.pending.size === 0) return { deliver, duplicates };
    let lowest: bigint | undefined;
    for (const seq of this.pending.keys()) if (lowest === undefined || seq < lowest) lowest = seq;
    return { deliver, duplicates, gap: { from: this.applied + 1n, to: (lowest as bigint) - 1n } };
  }

  /** Start over from a new watermark (rebootstrap): everything held back is discarded. */
  reset(watermark: bigint): void {
    this.applied = watermark;
    this.pending.clear();
  }
}
