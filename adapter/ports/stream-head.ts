/**
 * One stream's head as the writer's subscription shows it: what metrics, the admin API and ingest
 * read. Its own file so the metric families (../metrics.ts) do not depend on the writer.
 */
export interface StreamHead {
  readonly head: bigint;
  readonly lowWatermark: bigint;
  readonly epoch: bigint;
  readonly lastSourceSeq: bigint;
  readonly sourceGapMissing: bigint;
  readonly updatedAtMicros: bigint;
  /** Retention policy: newest events kept (0 = keep everything). */
  readonly retainMinEvents: bigint;
}
