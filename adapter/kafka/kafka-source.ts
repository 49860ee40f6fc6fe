/**
 * Kafka → SpacetimeDB, effectively once: the source runs the consumer's lifecycle (./lifecycle.ts)
 * and wires its parts, each in its own file — the kafkajs client (./kafka-client.ts), one consumer
 * (./consumer.ts), the batch loop writing through the ReducerSink port (./batch-loop.ts), the
 * dead-letter topic (./dead-letter.ts), the watchdog that replaces a stuck or crashed consumer
 * (./watchdog.ts) and the lag query (./lag.ts). Every step asks the machine first and re-asks after
 * each await: a stop() that lands while the consumer (re)starts wins, and stop() resolves only once
 * no consumer of this source runs.
 */
import type { Logger } from 'pino';
import {
  DEFAULT_KAFKA_MAX_BATCH,
  DEFAULT_KAFKA_PARTITION_CALLS_IN_FLIGHT,
  DEFAULT_KAFKA_PARTITIONS_CONCURRENTLY,
  type KafkaConfig,
} from '../config.js';
import type { AdapterMetrics } from '../metrics.js';
import { BatchLoop } from './batch-loop.js';
import { type ConsumerHandle, type StartConsumer, startKafkaConsumer } from './consumer.js';
import { DeadLetterProducer } from './dead-letter.js';
import { createKafkaClient, type KafkaClient } from './kafka-client.js';
import { type PartitionLagInfo, partitionLag } from './lag.js';
import {
  isReady,
  type KafkaSourceState,
  reported,
  type SourceEvent,
  type SourceState,
  transition,
} from './lifecycle.js';
import type { ShardSinks } from './shard-sinks.js';
import { ProgressWatch, restartReason, Watchdog } from './watchdog.js';

export { DEAD_LETTER_HEADERS } from './dead-letter.js';
export type { PartitionLagInfo } from './lag.js';
export type { KafkaSourceState } from './lifecycle.js';

/** The validated Kafka configuration (defaults applied there), plus what the source writes through. */
export interface KafkaSourceOptions extends KafkaConfig {
  /** The shards' writers and the routing function (./shard-sinks.ts). */
  readonly shards: ShardSinks;
  readonly metrics: AdapterMetrics;
  readonly logger: Logger;
  /** Where consumers come from; kafkajs unless a test drives the lifecycle with its own. */
  readonly startConsumer?: StartConsumer;
}

type Producer = ReturnType<KafkaClient['producer']>;

export class KafkaSource {
  private readonly kafka: KafkaClient;
  private consumer: ConsumerHandle | undefined;
  private producer: Producer | undefined;
  /** The lifecycle (./lifecycle.ts); changed only through `apply`. */
  private life: SourceState = { kind: 'idle' };
  private readonly progress = new ProgressWatch();
  private readonly watchdog: Watchdog;
  /** The start or watchdog restart in progress; stop() waits for it. */
  private pending: Promise<void> = Promise.resolve();
  private lastError: string | undefined;
  /** The running consumer's batch loop: asked on a timer for lagging shards that are up again. */
  private loop: BatchLoop | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: KafkaSourceOptions) {
    this.kafka = createKafkaClient({
      clientId: 'spacetime-sync-adapter',
      brokers: o.brokers,
      logger: o.logger,
      ...(o.security ? { security: o.security } : {}),
    });
    this.watchdog = new Watchdog(o.watchdogMs, () => {
      const why = restartReason(this.life, this.progress.stalledMs(), o.watchdogMs);
      if (why) this.track(this.restart(why));
    });
  }

  /** Moves the lifecycle; false when the machine refuses the event in the current state. */
  private apply(e: SourceEvent): boolean {
    const next = transition(this.life, e);
    if (!next) return false;
    this.life = next;
    return true;
  }

  private get stopping(): boolean {
    return this.life.kind === 'stopping' || this.life.kind === 'stopped';
  }

  /** Remembers `work` for stop(); its failure is its caller's to report, not the chain's. */
  private track(work: Promise<void>): void {
    const settled = () => {};
    this.pending = Promise.all([this.pending, work.then(settled, settled)]).then(settled);
  }

  async start(): Promise<void> {
    if (!this.apply({ type: 'start' })) throw new Error(`KafkaSource cannot start when ${this.life.kind}`);
    const work = this.startFirst();
    this.track(work);
    await work;
  }

  private async startFirst(): Promise<void> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.producer = producer;
    await producer.connect();
    if (this.stopping) return; // stop() disconnects the producer
    const consumer = await this.startConsumer();
    if (this.stopping) {
      await consumer.disconnect();
      return;
    }
    // Refused when the consumer already crashed for good while coming up: the watchdog restarts it.
    this.apply({ type: 'started' });
    this.watchdog.start();
    if (this.o.shards.names.length > 1) {
      this.recoveryTimer = setInterval(() => this.recoverQuietPartitions(), 1_000);
      this.recoveryTimer.unref();
    }
  }

  /**
   * A partition whose lagging shard is up again re-reads at its next batch; this seeks the ones
   * that get no new messages, so a shard's waiting events do not wait for more traffic.
   */
  private recoverQuietPartitions(): void {
    const loop = this.loop;
    const consumer = this.consumer;
    if (!loop || !consumer?.seek || this.life.kind !== 'running') return;
    for (const r of loop.recoveries()) {
      loop.sought(r.topic, r.partition, r.offset);
      consumer.seek({ topic: r.topic, partition: r.partition, offset: r.offset.toString() });
    }
  }

  /** True for the source's own use: a consumer runs (/readyz). */
  get ready(): boolean {
    return isReady(this.life);
  }

  /** The lifecycle state's kind (./lifecycle.ts), finer than `status().state`: for tests and logs. */
  get phase(): SourceState['kind'] {
    return this.life.kind;
  }

  /** The watchdog's restart: the old consumer goes, a new one comes, unless a stop() came meanwhile. */
  private async restart(why: string): Promise<void> {
    if (!this.apply({ type: 'restart', why })) return;
    this.o.metrics.consumerRestarts.inc();
    this.o.logger.error({ why, stalledMs: this.progress.stalledMs() }, 'restarting the Kafka consumer');
    try {
      await this.consumer?.disconnect();
      if (this.life.kind !== 'restarting') return; // stopped meanwhile: stop() owns the shutdown
      this.progress.progressed();
      const consumer = await this.startConsumer();
      // Refused when stopped (this consumer must go) or crashed meanwhile (the watchdog retries).
      if (!this.apply({ type: 'started' }) && this.stopping) await consumer.disconnect();
    } catch (e) {
      this.o.logger.error({ err: String(e) }, 'consumer restart failed; the watchdog will try again');
      this.apply({ type: 'crash', error: String(e), retrying: false });
    }
  }

  /** kafkajs events of a consumer that was replaced are not this source's any more. */
  private onConsumerEvent(consumer: ConsumerHandle, e: SourceEvent): void {
    if (consumer !== this.consumer) return;
    if (e.type === 'crash') this.lastError = e.error;
    this.apply(e);
  }

  private startConsumer(): Promise<ConsumerHandle> {
    const producer = this.producer;
    if (!producer) throw new Error('KafkaSource: the dead-letter producer is not connected');
    const loop = new BatchLoop({
      shards: this.o.shards,
      deadLetters: new DeadLetterProducer(producer, {
        topic: this.o.deadLetterTopic,
        metrics: this.o.metrics,
        logger: this.o.logger,
      }),
      groupId: this.o.groupId,
      maxBatch: this.o.maxBatch ?? DEFAULT_KAFKA_MAX_BATCH,
      callsInFlight: this.o.partitionCallsInFlight ?? DEFAULT_KAFKA_PARTITION_CALLS_IN_FLIGHT,
      metrics: this.o.metrics,
      logger: this.o.logger,
      stopping: () => this.stopping,
      progressed: () => this.progress.progressed(),
      ...(this.o.unexplainedRetries !== undefined ? { maxUnexplained: this.o.unexplainedRetries } : {}),
    });
    this.loop = loop;
    const start: StartConsumer = this.o.startConsumer ?? ((setup) => startKafkaConsumer(this.kafka, setup));
    return start({
      config: this.o,
      partitionsConcurrently: this.o.partitionsConcurrently ?? DEFAULT_KAFKA_PARTITIONS_CONCURRENTLY,
      metrics: this.o.metrics,
      logger: this.o.logger,
      created: (consumer) => {
        this.consumer = consumer;
      },
      event: (consumer, e) => this.onConsumerEvent(consumer, e),
      activity: () => (this.life.kind === 'running' ? this.life.activity : undefined),
      rebalanced: () => loop.rebalanced(),
      cursor: (topic, partition) => loop.startAt(topic, partition),
      batch: async (payload, gate, commit, seek) => {
        this.progress.batchStarted();
        try {
          await loop.run(payload, gate, commit, seek);
        } finally {
          this.progress.batchEnded();
        }
      },
    });
  }

  /** For operators: what the consumer is doing, and the last error kafkajs reported. */
  status(): { state: KafkaSourceState; lastError?: string } {
    return {
      state: reported(this.life),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /** Committed offset, end offset and lag of every partition of the consumed topics. */
  partitionLag(): Promise<PartitionLagInfo[]> {
    return partitionLag(this.kafka, this.o.groupId, this.o.topics);
  }

  /**
   * Graceful: stop fetching, let the batch in progress finish and commit, disconnect. A start or
   * watchdog restart in progress sees the stop after its next await and disconnects what it
   * started; this waits for it, so no consumer of this source runs once it resolves.
   */
  async stop(): Promise<void> {
    if (!this.apply({ type: 'stop' })) return;
    this.watchdog.stop();
    clearInterval(this.recoveryTimer);
    await this.consumer?.disconnect();
    await this.pending;
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    this.apply({ type: 'stopped' });
  }
}
