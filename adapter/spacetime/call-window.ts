/**
 * The writer's bounded window of reducer calls in flight on one connection. SpacetimeDB runs the
 * reducer calls of one connection in the order they were sent (the websocket actor hands each
 * `CallReducer` to the module's one FIFO job queue before reading the next message; devhost's
 * client session does the same through its TxQueue), so calls started in order commit in order and
 * pipelining keeps the order a single call at a time gave. Calls start strictly in submission order,
 * at most `max` at once; `failInFlight` ends every started call at once (its socket is gone, no
 * answer will come on it), and the calls still waiting then start and meet the closed connection.
 */

/**
 * The default window. On one loaded 2-core machine windows of 1, 4 and 16 (300 batches of 100 × 200 B
 * through a writer to devhost in the same process) gave no figure above the noise; 8 bounds what a
 * drop fails at once and lets the host queue work while the adapter decodes the next request.
 */
export const DEFAULT_MAX_IN_FLIGHT = 8;

interface Waiting {
  readonly start: (lost: Promise<never>) => Promise<unknown>;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

export class CallWindow {
  private readonly waiting: Waiting[] = [];
  /** Each started call's way to fail it now. */
  private readonly running = new Set<(e: Error) => void>();
  private idleWaiters: (() => void)[] = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max in flight must be ≥ 1, not ${max}`);
  }

  /** Calls started and not yet answered. */
  get inFlight(): number {
    return this.running.size;
  }

  /**
   * Runs `start` once every earlier call has started and a place is free. `start` must send its
   * call synchronously (that is what keeps the order); `lost` rejects when `failInFlight` is called.
   */
  run<T>(start: (lost: Promise<never>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ start, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /** Fails every started call with `e` (the calls not started yet still start, in order). */
  failInFlight(e: Error): void {
    for (const fail of [...this.running]) fail(e);
  }

  /** Resolves once nothing waits and nothing is in flight. */
  idle(): Promise<void> {
    if (this.waiting.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (this.running.size < this.max) {
      const next = this.waiting.shift();
      if (!next) break;
      let fail!: (e: Error) => void;
      const lost = new Promise<never>((_, reject) => {
        fail = reject;
      });
      lost.catch(() => {});
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.running.delete(fail);
        this.pump();
      };
      this.running.add(fail);
      let call: Promise<unknown>;
      try {
        call = Promise.race([next.start(lost), lost]);
      } catch (e) {
        call = Promise.reject(e);
      }
      call.then(
        (v) => {
          finish();
          next.resolve(v);
        },
        (e: unknown) => {
          finish();
          next.reject(e);
        },
      );
    }
    if (this.waiting.length === 0 && this.running.size === 0) {
      for (const r of this.idleWaiters.splice(0)) r();
    }
  }
}
