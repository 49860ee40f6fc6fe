/**
 * Promises waiting for an offset to become durable. Kept sorted by offset (ties in arrival order), so
 * one durable advance settles them in offset order: a client never sees tx N+1 confirmed before N.
 */
interface Waiter {
  readonly offset: bigint;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

export class DurableWaiters {
  private readonly list: Waiter[] = [];

  wait(offset: bigint): Promise<void> {
    return new Promise((resolve, reject) => {
      // Upper bound: after every waiter with offset <= this one.
      let lo = 0;
      let hi = this.list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((this.list[mid] as Waiter).offset <= offset) lo = mid + 1;
        else hi = mid;
      }
      this.list.splice(lo, 0, { offset, resolve, reject });
    });
  }

  /** Resolves every waiter for an offset <= `durable`, lowest first. */
  release(durable: bigint): void {
    let n = 0;
    while (n < this.list.length && (this.list[n] as Waiter).offset <= durable) n++;
    for (const w of this.list.splice(0, n)) w.resolve();
  }

  /** Rejects every waiter for an offset above `offset` (those offsets will never become durable). */
  rejectAbove(offset: bigint, error: Error): void {
    let n = 0;
    while (n < this.list.length && (this.list[n] as Waiter).offset <= offset) n++;
    for (const w of this.list.splice(n)) w.reject(error);
  }

  rejectAll(error: Error): void {
    for (const w of this.list.splice(0)) w.reject(error);
  }
}
