/**
 * Updates keyed by (topic, watermark). The lane sends every batch twice (`sync:update_batch` and
 * `sync:frame`) and replays again on a lower resume; the application should see each row once. A
 * (topic, watermark) seen before with the same payload hash is a duplicate; with a different hash the
 * lane reused a watermark (e.g. restarted from an old snapshot), which is reported, not hidden.
 * Hashes are remembered for the last `window` watermarks of each topic; an older watermark at or below
 * the topic's high mark counts as a duplicate without a hash comparison.
 */

export type Verdict = 'new' | 'duplicate' | 'reused';

export class UpdateDedupe {
  private readonly seen = new Map<string, Map<number, string | null>>();
  private readonly high = new Map<string, number>();

  constructor(private readonly window = 100_000) {}

  check(topic: string, watermark: number, hash: string | null): Verdict {
    let recent = this.seen.get(topic);
    if (!recent) {
      recent = new Map();
      this.seen.set(topic, recent);
    }
    if (recent.has(watermark)) {
      if (recent.get(watermark) === hash) return 'duplicate';
      // Remember the lane's new content, so the reuse is reported once, not again for its twin.
      recent.set(watermark, hash);
      return 'reused';
    }
    if (watermark <= (this.high.get(topic) ?? 0) && recent.size >= this.window) return 'duplicate';
    recent.set(watermark, hash);
    if (recent.size > this.window) recent.delete(recent.keys().next().value as number);
    if (watermark > (this.high.get(topic) ?? 0)) this.high.set(topic, watermark);
    return 'new';
  }

  /** The highest watermark delivered for `topic` (0 before any). */
  watermark(topic: string): number {
    return this.high.get(topic) ?? 0;
  }

  /** Every topic's high mark, as a `resume_after` object. */
  watermarks(): Record<string, number> {
    return Object.fromEntries(this.high);
  }
}
