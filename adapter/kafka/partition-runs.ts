/**
 * Which shard may apply which message of a partition, when shards move at different speeds.
 *
 * Each shard's transactions hold their own cursor per partition ("everything of mine below this
 * offset is applied"). A shard may apply a message only if this consumer has read the partition
 * without a hole since that shard's cursor: a *run* is a stretch of consecutive batches, starting
 * where the consumer was placed (assignment, a seek, kafkajs re-reading a failed batch). A shard
 * whose cursor lies before the run's start, or which skipped a message in this run (it was down),
 * *lags*: its later messages are skipped too — applying them would move its cursor over the ones it
 * missed. Once a lagging shard is up again the loop seeks the partition back to the first offset it
 * skipped (or its cursor, if lower); the re-read starts a new run, in which the other shards skip
 * what their cursors cover. So a shard that is down costs the others nothing but a re-read.
 */

export class PartitionRun {
  /** The first offset this run covers. */
  from: bigint;
  /** The offset after the last message of the run's last batch. */
  next: bigint;
  /** Lagging shards → the offset to re-read from. */
  readonly lagging = new Map<string, bigint>();

  constructor(from: bigint) {
    this.from = from;
    this.next = from;
  }

  /** Whether `shard`, whose cursor is `cursor`, may apply this run's messages. */
  mayApply(shard: string, cursor: bigint | undefined): boolean {
    if (this.lagging.has(shard)) return false;
    return cursor === undefined || cursor >= this.from;
  }

  /** `shard` missed `offset` (or could not apply from there): it waits for a re-read. */
  lag(shard: string, offset: bigint): void {
    const was = this.lagging.get(shard);
    if (was === undefined || offset < was) this.lagging.set(shard, offset);
  }

  /** The offset to seek back to for the lagging shards that are up again, if any. */
  recovery(
    up: (shard: string) => boolean,
    cursorOf: (shard: string) => bigint | undefined,
  ): bigint | undefined {
    let target: bigint | undefined;
    for (const [shard, skipped] of this.lagging) {
      if (!up(shard)) continue;
      const c = cursorOf(shard);
      const from = c !== undefined && c < skipped ? c : skipped;
      if (target === undefined || from < target) target = from;
    }
    return target;
  }
}

export class PartitionRuns {
  private readonly runs = new Map<string, PartitionRun>();
  /** Where the consumer was placed (assignment or seek): the next run starts there. */
  private readonly placed = new Map<string, bigint>();
  /** Lagging shards of a run ended by a seek, until the next run takes them over. */
  private readonly carried = new Map<string, ReadonlyMap<string, bigint>>();

  /** A rebalance: every partition starts a new run where it is placed next. */
  reset(): void {
    this.runs.clear();
    this.placed.clear();
    this.carried.clear();
  }

  /** The consumer was placed at `offset` (a seek): the next batch of the partition starts a new run. */
  placedAt(topic: string, partition: number, offset: bigint): void {
    const key = `${topic}/${partition}`;
    const current = this.runs.get(key);
    if (current) this.carried.set(key, current.lagging);
    this.runs.delete(key);
    this.placed.set(key, offset);
  }

  /**
   * The run a batch starting at `first` belongs to: the current one if the batch continues it, a
   * new one if the partition was (re)placed or the batch goes back (kafkajs re-reading a batch).
   * A run starts at the placement offset when the batch starts past it: offsets in between do not
   * exist (compaction, transaction markers), so nothing was skipped.
   */
  begin(topic: string, partition: number, first: bigint): PartitionRun {
    const key = `${topic}/${partition}`;
    const current = this.runs.get(key);
    if (current && first >= current.next) return current;
    const placed = this.placed.get(key);
    this.placed.delete(key);
    const run = new PartitionRun(placed !== undefined && placed <= first ? placed : first);
    // A shard that lagged from before the new run's start still misses those messages.
    for (const [shard, offset] of this.carried.get(key) ?? current?.lagging ?? []) {
      if (offset < run.from) run.lag(shard, offset);
    }
    this.carried.delete(key);
    this.runs.set(key, run);
    return run;
  }

  /** Lagging shards per partition, for the per-shard metric. */
  laggingCount(shard: string): number {
    let n = 0;
    for (const r of this.runs.values()) if (r.lagging.has(shard)) n++;
    return n;
  }

  /** Partitions whose lagging shards are up again, with where to re-read (quiet partitions too). */
  recoveries(
    up: (shard: string) => boolean,
    cursorOf: (topic: string, partition: number, shard: string) => bigint | undefined,
  ): { topic: string; partition: number; offset: bigint }[] {
    const out: { topic: string; partition: number; offset: bigint }[] = [];
    for (const [key, run] of this.runs) {
      const cut = key.lastIndexOf('/');
      const topic = key.slice(0, cut);
      const partition = Number(key.slice(cut + 1));
      const offset = run.recovery(up, (s) => cursorOf(topic, partition, s));
      if (offset !== undefined) out.push({ topic, partition, offset });
    }
    return out;
  }
}
