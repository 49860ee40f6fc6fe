/**
 * What the Kafka batch loop writes through when streams are sharded: one ReducerSink (one writer
 * connection) per shard, the one routing function (shared/shards/route.ts) choosing the shard of
 * each event, and whether a shard is reachable now. The cursor of a partition lives in every
 * shard's own transactions (see ./batch-loop.ts for why and how the loop uses them).
 */
import { FIRST_SHARD } from '../../shared/shards/config.js';
import type { ReducerSink } from '../ports/reducer-sink.js';

export interface ShardSinks {
  /** Every shard, the first listed first (undecodable messages without a key go there). */
  readonly names: readonly string[];
  /** The shard of a stream: shared/shards/route.ts `shardFor` over the configured map. */
  route(streamId: string): string;
  sink(shard: string): ReducerSink;
  /** False while the shard's writer is not connected: its events wait, the others' go on. */
  up(shard: string): boolean;
}

/** One database, one shard: the unsharded deployment (and the loop's own tests). */
export function oneShard(sink: ReducerSink, up: () => boolean = () => true): ShardSinks {
  return { names: [FIRST_SHARD], route: () => FIRST_SHARD, sink: () => sink, up };
}

/**
 * Where a (re)assigned partition resumes: the lowest cursor any shard holds for it, so every shard
 * sees again what it may not have applied; what a shard's own cursor covers it skips. When a shard
 * has no cursor (it never applied from this partition, or it is down and its cursor unknown) this
 * is undefined and the partition resumes at Kafka's committed offset, which the loop keeps at the
 * lowest point any shard must resume from (./batch-loop.ts); a shard whose cursor turns out to be
 * lower still is sought back to it by the run rules (./partition-runs.ts) once it is up.
 */
export function lowestCursor(
  sinks: ShardSinks,
  group: string,
  topic: string,
  partition: number,
): bigint | undefined {
  let low: bigint | undefined;
  for (const name of sinks.names) {
    const c = sinks.sink(name).cursor(group, topic, partition);
    if (c === undefined) return undefined;
    if (low === undefined || c < low) low = c;
  }
  return low;
}
