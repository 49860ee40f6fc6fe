/**
 * One fetched batch of one partition into the shards' ReducerSinks. Each message goes to the shard
 * of its stream (shared/shards/route.ts via ./shard-sinks.ts; an undecodable one by its key, the
 * stream id by the keying rule, else to the first shard); each shard's share runs as a lane
 * (./shard-lane.ts), the shards' lanes side by side.
 *
 * Exactly once with shards: each shard's transactions store that shard's own cursor for the
 * partition (`sync_source_cursor` is per database), meaning "every message of this partition below
 * this offset that routes to me is applied". A message is skipped for its shard when that shard's
 * cursor covers it. A (re)assigned partition resumes at the lowest cursor of all shards
 * (./shard-sinks.ts `lowestCursor`), so a shard that fell behind sees again what it missed while
 * the others skip it. Kafka's committed offset is that lowest cursor too (for lag tooling; the
 * shards' cursors are the record).
 *
 * One shard down does not hold back the others: its lane stops, the shard *lags* in this partition
 * and its later messages are skipped, while the other lanes apply theirs and the batch completes.
 * When the shard is up again the partition is sought back to where it lagged from and re-read; the
 * rules of ./partition-runs.ts make sure a lagging shard never moves its cursor over a message it
 * skipped. With one shard there is nothing to let through: its lane retries in place, as before.
 * No kafkajs here: the loop sees a batch through `BatchPayload`.
 */
import type kafkajs from 'kafkajs';
import type { Logger } from 'pino';
import { decodeEnvelope } from '../envelope/decode.js';
import { toEventInput } from '../envelope/to-event.js';
import type { AdapterMetrics } from '../metrics.js';
import type { DeadLetterSink } from './dead-letter.js';
import type { InFlightGate } from './in-flight-gate.js';
import { WindowDropped } from './lane-window.js';
import { type PartitionRun, PartitionRuns } from './partition-runs.js';
import { type LaneItem, LaneStopped, runLane } from './shard-lane.js';
import { lowestCursor, type ShardSinks } from './shard-sinks.js';

type Message = Pick<kafkajs.KafkaMessage, 'key' | 'value' | 'offset'>;

/** What the loop needs of kafkajs's `EachBatchPayload` (which satisfies it as is). */
export interface BatchPayload {
  readonly batch: {
    readonly topic: string;
    readonly partition: number;
    readonly highWatermark: string;
    readonly messages: readonly Message[];
  };
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

export type BatchMetrics = Pick<
  AdapterMetrics,
  | 'inFlight'
  | 'consumerLag'
  | 'sawSourceSeq'
  | 'refusedSourceSeq'
  | 'reducerDuration'
  | 'reducerErrors'
  | 'batchSize'
  | 'partitionCallsInFlight'
  | 'callsRedone'
  | 'eventsAppended'
  | 'commitLatency'
  | 'shardEventsAppended'
  | 'shardLaggingPartitions'
>;

export interface BatchLoopOptions {
  readonly shards: ShardSinks;
  readonly deadLetters: DeadLetterSink;
  readonly groupId: string;
  /** Events per append call. */
  readonly maxBatch: number;
  /** Append calls of one partition's batch in flight at once (./lane-window.ts); default 1. */
  readonly callsInFlight?: number;
  /** Envelope bytes per append call (./shard-lane.ts DEFAULT_MAX_BATCH_BYTES when absent). */
  readonly maxBatchBytes?: number;
  readonly metrics: BatchMetrics;
  readonly logger: Logger;
  /** True once the source is stopping: retries end and the rest of the batch is left for later. */
  readonly stopping: () => boolean;
  /** Called at each commit (the watchdog's progress). */
  readonly progressed: () => void;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Attempts a write may fail without a module reason before its envelope is dead-lettered. */
  readonly maxUnexplained?: number;
}

/** Commits `next` as the partition's Kafka offset (through the consumer that fetched the batch). */
export type CommitOffset = (topic: string, partition: number, next: bigint) => Promise<void>;

/** Places the consumer's fetch position of a partition (a lagging shard's re-read). */
export type SeekOffset = (topic: string, partition: number, offset: bigint) => void;

export class BatchLoop {
  private readonly runs = new PartitionRuns();

  constructor(private readonly o: BatchLoopOptions) {}

  /** A rebalance: what this consumer knew of its partitions' runs is void. */
  rebalanced(): void {
    this.runs.reset();
  }

  /** An assigned partition resumes at its lowest shard cursor, in a new run. */
  startAt(topic: string, partition: number): bigint | undefined {
    const at = lowestCursor(this.o.shards, this.o.groupId, topic, partition);
    if (at !== undefined) this.runs.placedAt(topic, partition, at);
    return at;
  }

  /** Partitions to seek back because a lagging shard is up again (asked on a timer for quiet ones). */
  recoveries(): { topic: string; partition: number; offset: bigint }[] {
    const s = this.o.shards;
    return this.runs.recoveries(
      (shard) => s.up(shard),
      (topic, partition, shard) => s.sink(shard).cursor(this.o.groupId, topic, partition),
    );
  }

  /** Records a seek made for `recoveries()`: the next batch of the partition starts a new run. */
  sought(topic: string, partition: number, offset: bigint): void {
    this.runs.placedAt(topic, partition, offset);
  }

  /**
   * Runs one batch. The whole batch is in flight from here until it is done (or handed back for a
   * later fetch when the consumer stops or seeks); `gate` pauses fetching past its bound.
   */
  async run(
    payload: BatchPayload,
    gate: InFlightGate,
    commitOffset: CommitOffset,
    seek?: SeekOffset,
  ): Promise<void> {
    const n = payload.batch.messages.length;
    gate.add(n);
    this.o.metrics.inFlight.set(gate.inFlight);
    try {
      await this.consume(payload, commitOffset, seek);
    } finally {
      gate.done(n);
      this.o.metrics.inFlight.set(gate.inFlight);
    }
  }

  private async consume(
    { batch, resolveOffset, heartbeat, isRunning, isStale }: BatchPayload,
    commitOffset: CommitOffset,
    seek: SeekOffset | undefined,
  ): Promise<void> {
    const { topic, partition, messages } = batch;
    const first = messages[0];
    if (!first) return;
    const { shards, groupId } = this.o;
    const live = () => isRunning() && !isStale() && !this.o.stopping();
    const cursorOf = (shard: string) => shards.sink(shard).cursor(groupId, topic, partition);
    const run = this.runs.begin(topic, partition, BigInt(first.offset));
    // A lagging shard is up again: re-read from where it lagged (this batch comes again then).
    const back = run.recovery((s) => shards.up(s), cursorOf);
    if (back !== undefined && seek && shards.names.length > 1) {
      this.o.logger.info({ topic, partition, offset: String(back) }, 'a lagging shard is up: re-reading');
      this.runs.placedAt(topic, partition, back);
      seek(topic, partition, back);
      return;
    }
    const lanes = this.route(messages, run, topic, partition, cursorOf);
    const last = messages[messages.length - 1] as Message;
    const end = BigInt(last.offset) + 1n;
    run.next = end;
    const sharded = shards.names.length > 1;
    await Promise.all(
      [...lanes].map(async ([shard, items]) => {
        try {
          await runLane(
            {
              shard,
              sink: shards.sink(shard),
              deadLetters: this.o.deadLetters,
              source: { topic, partition },
              cursorOf: (next) => ({ consumerGroup: groupId, topic, partition, nextOffset: next }),
              maxBatch: this.o.maxBatch,
              ...(this.o.maxBatchBytes !== undefined ? { maxBatchBytes: this.o.maxBatchBytes } : {}),
              metrics: this.o.metrics,
              logger: this.o.logger,
              live: () => live() && (!sharded || shards.up(shard)),
              heartbeat,
              ...(this.o.sleep ? { sleep: this.o.sleep } : {}),
              ...(this.o.maxUnexplained !== undefined ? { maxUnexplained: this.o.maxUnexplained } : {}),
              ...(this.o.callsInFlight !== undefined ? { callsInFlight: this.o.callsInFlight } : {}),
            },
            items,
            end,
          );
        } catch (e) {
          // The batch was given up (revoked, stale, stopping): the lane dropped its window and sent
          // nothing more; nothing is committed below.
          if (e instanceof LaneStopped && e.cause instanceof WindowDropped && !live()) return;
          // The shard went down mid-batch while the batch is still wanted: it lags, the others go
          // on. Anything else (one shard, a stop, a dead-letter topic that refuses) propagates.
          if (!(e instanceof LaneStopped) || !sharded || shards.up(shard) || !live())
            throw e instanceof LaneStopped ? e.cause : e;
          this.o.logger.warn(
            { shard, topic, partition, offset: String(e.offset) },
            'shard down: its events wait',
          );
          run.lag(shard, e.offset);
        }
      }),
    );
    if (!live()) return;
    for (const shard of shards.names) {
      this.o.metrics.shardLaggingPartitions.set({ shard }, this.runs.laggingCount(shard));
    }
    resolveOffset(last.offset);
    const committed = this.committable(run, cursorOf);
    this.o.progressed();
    if (committed !== undefined) {
      await commitOffset(topic, partition, committed);
      this.o.metrics.consumerLag.set(
        { topic, partition: String(partition) },
        Math.max(0, Number(BigInt(batch.highWatermark) - committed)),
      );
    }
    await heartbeat();
  }

  /** Splits the batch into the shards' lanes; what a shard may not apply now makes it lag. */
  private route(
    messages: readonly Message[],
    run: PartitionRun,
    topic: string,
    partition: number,
    cursorOf: (shard: string) => bigint | undefined,
  ): Map<string, LaneItem[]> {
    const { shards } = this.o;
    const sharded = shards.names.length > 1;
    const lanes = new Map<string, LaneItem[]>();
    const cursors = new Map<string, bigint | undefined>();
    for (const shard of shards.names) {
      const cursor = cursorOf(shard);
      cursors.set(shard, cursor);
      if (sharded && !shards.up(shard)) continue;
      if (run.mayApply(shard, cursor)) lanes.set(shard, []);
      else if (cursor !== undefined && !run.lagging.has(shard)) run.lag(shard, cursor);
    }
    for (const message of messages) {
      const offset = BigInt(message.offset);
      const decoded = decodeEnvelope(message.value ?? new Uint8Array());
      const stream = decoded.ok ? decoded.envelope.streamId : message.key?.toString('utf8');
      const shard = stream ? shards.route(stream) : (shards.names[0] as string);
      const cursor = cursors.get(shard);
      // Effectively once: the shard already holds everything of its own below its cursor.
      if (cursor !== undefined && offset < cursor) continue;
      const lane = lanes.get(shard);
      if (!lane) {
        run.lag(shard, offset);
        continue;
      }
      if (!decoded.ok) {
        lane.push({ raw: message, offset, event: decoded.error, producedAtMicros: 0n });
        continue;
      }
      const e = decoded.envelope;
      this.o.metrics.sawSourceSeq(e.streamId, e.source?.authoritySeq ?? 0n);
      const producedAtMicros = e.producedAt
        ? e.producedAt.seconds * 1_000_000n + BigInt(Math.floor(e.producedAt.nanos / 1000))
        : 0n;
      lane.push({
        raw: message,
        offset,
        event: toEventInput(e, { topic, partition, offset }),
        producedAtMicros,
      });
    }
    return lanes;
  }

  /** Kafka's committed offset: the lowest point any shard must resume from. */
  private committable(
    run: PartitionRun,
    cursorOf: (shard: string) => bigint | undefined,
  ): bigint | undefined {
    let low: bigint | undefined;
    for (const shard of this.o.shards.names) {
      const c = cursorOf(shard);
      const lag = run.lagging.get(shard);
      const at = lag !== undefined && (c === undefined || lag < c) ? lag : c;
      if (at !== undefined && (low === undefined || at < low)) low = at;
    }
    return low;
  }
}
