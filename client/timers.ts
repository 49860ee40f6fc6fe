/**
 * The client's timers, owned in one place so closing clears every one of them; and a bound on SDK
 * calls: the SDK settles a reducer call only when its result arrives and silently forgets pending
 * calls when the socket drops, so an unbounded await there would stall its loop for good.
 */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  private cleared = false;

  after(ms: number, fn: () => void): void {
    if (this.cleared) return;
    const t = setTimeout(() => {
      this.pending.delete(t);
      fn();
    }, ms);
    this.pending.add(t);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  /** Runs `fn` every `ms`, the next run scheduled once this one settled. */
  every(ms: number, fn: () => Promise<unknown>): void {
    const tick = () => {
      void fn()
        .catch(() => {})
        .finally(() => this.after(ms, tick));
    };
    this.after(ms, tick);
  }

  clear(): void {
    this.cleared = true;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}

export class CallTimeoutError extends Error {
  override readonly name = 'CallTimeoutError';
}

/** `call`, or a CallTimeoutError after `ms`. */
export function bounded<T>(call: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimeoutError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}
