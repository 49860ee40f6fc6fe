/**
 * Keeps rebootstraps from turning into a storm. A server-side truncation makes every client stale at
 * once, so each rebootstrap waits a jittered delay; and a client that keeps going stale (a loop: the
 * data it reloads is already stale again) is stopped with an explicit error instead of hammering.
 */
export interface RebootstrapPolicy {
  /** Jittered wait before a rebootstrap: uniform in [minDelayMs, maxDelayMs]. */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** More than `maxInWindow` rebootstraps of one stream within `windowMs` = a fast loop. */
  readonly maxInWindow: number;
  readonly windowMs: number;
}

export const DEFAULT_REBOOTSTRAP: RebootstrapPolicy = {
  minDelayMs: 50,
  maxDelayMs: 2_000,
  maxInWindow: 5,
  windowMs: 60_000,
};

export class RebootstrapLoopError extends Error {
  override readonly name = 'RebootstrapLoopError';
  constructor(
    readonly streamId: string,
    readonly count: number,
    readonly windowMs: number,
  ) {
    super(
      `stream '${streamId}' needed ${count} rebootstraps within ${windowMs} ms; stopping to avoid a loop`,
    );
  }
}

export class RebootstrapGuard {
  private readonly history = new Map<string, number[]>();

  constructor(
    private readonly policy: RebootstrapPolicy = DEFAULT_REBOOTSTRAP,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a rebootstrap and returns how long to wait first; throws RebootstrapLoopError on a loop. */
  admit(streamId: string): number {
    const t = this.now();
    const recent = (this.history.get(streamId) ?? []).filter((x) => t - x < this.policy.windowMs);
    recent.push(t);
    this.history.set(streamId, recent);
    if (recent.length > this.policy.maxInWindow)
      throw new RebootstrapLoopError(streamId, recent.length, this.policy.windowMs);
    return (
      this.policy.minDelayMs + Math.floor(this.random() * (this.policy.maxDelayMs - this.policy.minDelayMs))
    );
  }
}
