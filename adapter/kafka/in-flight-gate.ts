/**
 * Backpressure with hysteresis: fetched-but-uncommitted events are counted; passing `high` closes
 * the gate (the source pauses fetching), draining to `low` opens it again. The gap between the two
 * keeps a source hovering at the bound from pausing and resuming on every batch.
 */
export class InFlightGate {
  private count = 0;
  private closed = false;

  constructor(
    private readonly high: number,
    private readonly low: number,
    private readonly onChange: (paused: boolean, inFlight: number) => void,
  ) {
    if (!(Number.isInteger(high) && Number.isInteger(low) && 0 <= low && low < high)) {
      throw new RangeError(`in-flight gate needs 0 <= low < high, got low ${low}, high ${high}`);
    }
  }

  get inFlight(): number {
    return this.count;
  }

  get paused(): boolean {
    return this.closed;
  }

  /** `n` more events were fetched. */
  add(n: number): void {
    this.count += n;
    if (!this.closed && this.count > this.high) {
      this.closed = true;
      this.onChange(true, this.count);
    }
  }

  /** `n` events were committed, skipped, or handed back for a later fetch. */
  done(n: number): void {
    this.count = Math.max(0, this.count - n);
    if (this.closed && this.count <= this.low) {
      this.closed = false;
      this.onChange(false, this.count);
    }
  }
}
