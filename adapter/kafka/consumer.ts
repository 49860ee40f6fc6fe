/**
 * One kafkajs consumer, set up the way the source needs it: manual commits, its own backpressure
 * gate, each (re)assigned partition started where the sink's cursor says (not where Kafka's commit
 * does), and its kafkajs events turned into lifecycle events (./lifecycle.ts) for the source.
 */
import type kafkajs from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConfig } from '../config.js';
import type { AdapterMetrics } from '../metrics.js';
import type { CommitOffset, SeekOffset } from './batch-loop.js';
import { InFlightGate } from './in-flight-gate.js';
import type { KafkaClient } from './kafka-client.js';
import type { Activity, SourceEvent } from './lifecycle.js';

/** What the source keeps of a consumer: the one thing it does to it is disconnect it. */
export interface ConsumerHandle {
  disconnect(): Promise<void>;
  /** Places a partition's fetch position (a lagging shard's re-read); absent on test doubles. */
  seek?(target: { topic: string; partition: number; offset: string }): void;
}

/** How the source gets a running consumer (kafkajs here; the lifecycle test passes its own). */
export type StartConsumer = (setup: ConsumerSetup) => Promise<ConsumerHandle>;

export interface ConsumerSetup {
  readonly config: Pick<KafkaConfig, 'groupId' | 'topics' | 'sessionTimeoutMs' | 'maxInFlight'>;
  readonly partitionsConcurrently: number;
  readonly metrics: Pick<AdapterMetrics, 'kafkaPaused' | 'kafkaPauses' | 'inFlight'>;
  readonly logger: Logger;
  /** Called before the consumer connects: from here on the source owns it (stop() disconnects it). */
  readonly created: (consumer: ConsumerHandle) => void;
  /** A lifecycle event of this consumer (the source ignores those of a consumer it replaced). */
  readonly event: (consumer: ConsumerHandle, e: SourceEvent) => void;
  /** What the source's running consumer is doing now; undefined when it is not running. */
  readonly activity: () => Activity | undefined;
  /** A rebalance happened: per-partition state of the batch loop is void. */
  readonly rebalanced?: () => void;
  /** Where the shards' cursors say a partition resumes. */
  readonly cursor: (topic: string, partition: number) => bigint | undefined;
  /** Runs one fetched batch; `commit` commits through the consumer that fetched it. */
  readonly batch: (
    payload: kafkajs.EachBatchPayload,
    gate: InFlightGate,
    commit: CommitOffset,
    seek: SeekOffset,
  ) => Promise<void>;
}

/** Creates, connects, subscribes and runs a kafkajs consumer; resolves once kafkajs runs it. */
export async function startKafkaConsumer(kafka: KafkaClient, s: ConsumerSetup): Promise<ConsumerHandle> {
  const { config, metrics, logger } = s;
  const consumer = kafka.consumer({
    groupId: config.groupId,
    sessionTimeout: config.sessionTimeoutMs,
    // A third of the session at most (Kafka's advice), so a lowered session still sees its heartbeats.
    heartbeatInterval: Math.min(1_000, Math.floor(config.sessionTimeoutMs / 3)),
    maxBytesPerPartition: 1 << 20,
  });
  s.created(consumer);
  const topics = config.topics.map((topic) => ({ topic }));
  // One gate per consumer: a watchdog restart starts from a clean count and no paused partitions.
  const high = config.maxInFlight;
  const gate = new InFlightGate(high, Math.floor(high / 2), (paused, inFlight) => {
    if (paused) {
      consumer.pause(topics);
      metrics.kafkaPauses.inc();
    } else {
      consumer.resume(topics);
    }
    metrics.kafkaPaused.set(paused ? 1 : 0);
    // Backpressure shows only on a consumer that is consuming (or paused by it).
    const a = s.activity();
    if (a === 'consuming' || a === 'paused') {
      s.event(consumer, { type: 'activity', activity: paused ? 'paused' : 'consuming' });
    }
    logger.info({ inFlight, bound: high }, paused ? 'backpressure: fetch paused' : 'fetch resumed');
  });
  metrics.kafkaPaused.set(0);
  metrics.inFlight.set(0);
  await consumer.connect();
  for (const topic of config.topics) await consumer.subscribe({ topic, fromBeginning: true });
  const activity = (a: Activity) => s.event(consumer, { type: 'activity', activity: a });
  consumer.on(consumer.events.REBALANCING, () => activity('rebalancing'));
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger[payload.restart ? 'warn' : 'error'](
      { err: payload.error.message, restart: payload.restart },
      payload.restart ? 'Kafka consumer crashed; kafkajs restarts it' : 'Kafka consumer crashed',
    );
    s.event(consumer, { type: 'crash', error: payload.error.message, retrying: payload.restart });
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    activity(gate.paused ? 'paused' : 'consuming');
    s.rebalanced?.();
    for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
      for (const partition of partitions) {
        const next = s.cursor(topic, partition);
        if (next !== undefined) consumer.seek({ topic, partition, offset: next.toString() });
      }
    }
  });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: s.partitionsConcurrently,
    eachBatch: (payload) =>
      s.batch(
        payload,
        gate,
        (topic, partition, next) => consumer.commitOffsets([{ topic, partition, offset: next.toString() }]),
        (topic, partition, offset) => consumer.seek({ topic, partition, offset: offset.toString() }),
      ),
  });
  logger.info({ topics: config.topics, groupId: config.groupId }, 'kafka consumer running');
  return consumer;
}
