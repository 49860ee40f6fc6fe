/**
 * Kafka → SpacetimeDB, effectively once. Each partition is consumed in order; valid envelopes are
 * appended in batches whose transaction also stores the partition's next offset (`source_cursor`), so
 * SpacetimeDB — not Kafka — is the record of what was applied: after any crash the adapter skips
 * what the cursor covers and resumes right after it. Kafka offsets are committed after the write,
 * for lag tooling. What a failure means for the envelope is ./disposition.ts's: refused envelopes go
 * to the dead-letter topic with their reason; other failures are retried with capped, jittered
 * backoff and never skipped.
 *
 * kafkajs is in maintenance mode: everything kafkajs-specific stays in this file.
 */

import kafkajs from 'kafkajs';
import type { Logger } from 'pino';
import type { SyncError } from '../../shared/errors/sync-error.js';
import type { KafkaConfig } from '../config.js';
import { decodeEnvelope } from '../envelope/decode.js';
import { type EventInput, toEventInput } from '../envelope/to-event.js';
import type { AdapterMetrics } from '../metrics.js';
import type { SourceCursor, SpacetimeWriter } from '../spacetime/writer.js';
import { deadLetterRecord } from './dead-letter.js';
import { InFlightGate } from './in-flight-gate.js';
import {
  type Activity,
  isReady,
  type KafkaSourceState,
  reported,
  type SourceEvent,
  type SourceState,
  transition,
} from './lifecycle.js';
import { refused, withRetry } from './retry.js';

export type { KafkaSourceState } from './lifecycle.js';

const { Kafka, logLevel } = kafkajs;
type Consumer = ReturnType<InstanceType<typeof Kafka>['consumer']>;
type Producer = ReturnType<InstanceType<typeof Kafka>['producer']>;
type KafkaMessage = kafkajs.KafkaMessage;

export { DEAD_LETTER_HEADERS } from './dead-letter.js';

/** The validated Kafka configuration (defaults applied there), plus what the source writes through. */
export interface KafkaSourceOptions extends KafkaConfig {
  readonly writer: SpacetimeWriter;
  readonly metrics: AdapterMetrics;
  readonly logger: Logger;
  /** Events per append_sync_events call. */
  readonly maxBatch?: number;
  readonly partitionsConcurrently?: number;
}

/** How far the group trails one partition, from Kafka's own committed offsets (lag tooling's view). */
export interface PartitionLagInfo {
  readonly topic: string;
  readonly partition: number;
  /** Next offset the group reads; -1 before its first commit. */
  readonly committedOffset: bigint;
  readonly endOffset: bigint;
  readonly lag: bigint;
}

interface Pending {
  /** The original message: a refused event is dead-lettered with its exact bytes. */
  readonly raw: KafkaMessage;
  readonly event: EventInput;
  readonly offset: bigint;
  readonly producedAtMicros: bigint;
}

export class KafkaSource {
  private readonly kafka: InstanceType<typeof Kafka>;
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  /** The lifecycle (./lifecycle.ts); changed only through `apply`. */
  private life: SourceState = { kind: 'idle' };
  /** Watchdog state: when the last commit (or idle batch end) happened, and how many batches run. */
  private lastProgress = Date.now();
  private running = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private lastError: string | undefined;

  constructor(private readonly o: KafkaSourceOptions) {
    this.kafka = new Kafka({
      clientId: 'spacetime-sync-adapter',
      brokers: [...o.brokers],
      logLevel: logLevel.ERROR,
      logCreator:
        () =>
        ({ level, log }) => {
          // kafkajs logs retried failures (a coordinator still loading, a leader being elected) at
          // ERROR; what ends in a failure is reported by this class (CRASH below) at error.
          if (level <= logLevel.ERROR) o.logger.warn({ kafka: log.message, error: log.error }, 'kafkajs');
        },
    });
  }

  /** Moves the lifecycle; false when the machine refuses the event in the current state. */
  private apply(e: SourceEvent): boolean {
    const next = transition(this.life, e);
    if (!next) return false;
    this.life = next;
    return true;
  }

  async start(): Promise<void> {
    if (!this.apply({ type: 'start' })) throw new Error(`KafkaSource cannot start when ${this.life.kind}`);
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    if (this.life.kind !== 'starting') return; // stopped meanwhile: stop() disconnects the producer
    const consumer = await this.startConsumer();
    // Re-check after the await: a stop() that came meanwhile must not leave this consumer running.
    if (!this.apply({ type: 'started' })) {
      await consumer.disconnect();
      return;
    }
    const limit = this.o.watchdogMs;
    this.watchdog = setInterval(() => void this.checkProgress(limit), Math.max(100, limit / 4));
    this.watchdog.unref();
  }

  /** True for the source's own use: a consumer runs (/readyz). */
  get ready(): boolean {
    return isReady(this.life);
  }

  /**
   * The watchdog: a consumer whose batch has run without committing for too long is stuck, and a
   * consumer kafkajs gave up on (crashed, not retrying) is dead; both are replaced.
   */
  private async checkProgress(limit: number): Promise<void> {
    const stalled =
      this.life.kind === 'running' && this.running > 0 && Date.now() - this.lastProgress >= limit;
    const why = stalled
      ? 'no progress'
      : this.life.kind === 'crashed'
        ? `crashed: ${this.life.error}`
        : undefined;
    if (!why || !this.apply({ type: 'restart', why })) return;
    this.o.metrics.consumerRestarts.inc();
    this.o.logger.error({ why, stalledMs: Date.now() - this.lastProgress }, 'restarting the Kafka consumer');
    try {
      await this.consumer?.disconnect();
      if (this.life.kind !== 'restarting') return; // stopped meanwhile: stop() owns the shutdown
      this.lastProgress = Date.now();
      const consumer = await this.startConsumer();
      if (!this.apply({ type: 'started' })) await consumer.disconnect(); // stopped meanwhile
    } catch (e) {
      this.o.logger.error({ err: String(e) }, 'consumer restart failed; the watchdog will try again');
      this.apply({ type: 'crash', error: String(e), retrying: false });
    }
  }

  /** kafkajs events of a consumer that was replaced are not this source's any more. */
  private onConsumerEvent(consumer: Consumer, e: SourceEvent): void {
    if (consumer === this.consumer) this.apply(e);
  }

  private async startConsumer(): Promise<Consumer> {
    const consumer = this.kafka.consumer({
      groupId: this.o.groupId,
      sessionTimeout: this.o.sessionTimeoutMs,
      heartbeatInterval: 1_000,
      maxBytesPerPartition: 1 << 20,
    });
    this.consumer = consumer;
    // One gate per consumer: a watchdog restart starts from a clean count and no paused partitions.
    const high = this.o.maxInFlight;
    const gate = new InFlightGate(high, Math.floor(high / 2), (paused, inFlight) => {
      const topics = this.o.topics.map((topic) => ({ topic }));
      if (paused) {
        consumer.pause(topics);
        this.o.metrics.kafkaPauses.inc();
      } else {
        consumer.resume(topics);
      }
      this.o.metrics.kafkaPaused.set(paused ? 1 : 0);
      // Backpressure shows only on a consumer that is consuming (or paused by it).
      const a = this.life.kind === 'running' ? this.life.activity : undefined;
      if (a === 'consuming' || a === 'paused') {
        this.onConsumerEvent(consumer, { type: 'activity', activity: paused ? 'paused' : 'consuming' });
      }
      this.o.logger.info({ inFlight, bound: high }, paused ? 'backpressure: fetch paused' : 'fetch resumed');
    });
    this.o.metrics.kafkaPaused.set(0);
    this.o.metrics.inFlight.set(0);
    await consumer.connect();
    for (const topic of this.o.topics) await consumer.subscribe({ topic, fromBeginning: true });
    const activity = (a: Activity) => this.onConsumerEvent(consumer, { type: 'activity', activity: a });
    consumer.on(consumer.events.REBALANCING, () => activity('rebalancing'));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.lastError = payload.error.message;
      this.o.logger[payload.restart ? 'warn' : 'error'](
        { err: payload.error.message, restart: payload.restart },
        payload.restart ? 'Kafka consumer crashed; kafkajs restarts it' : 'Kafka consumer crashed',
      );
      this.onConsumerEvent(consumer, {
        type: 'crash',
        error: payload.error.message,
        retrying: payload.restart,
      });
    });
    // On (re)assignment start each partition where SpacetimeDB's cursor says, not where Kafka's commit does.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      activity(gate.paused ? 'paused' : 'consuming');
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const next = this.o.writer.cursor(this.o.groupId, topic, partition);
          if (next !== undefined) consumer.seek({ topic, partition, offset: next.toString() });
        }
      }
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.o.partitionsConcurrently ?? 4,
      eachBatch: async (ctx) => {
        this.running++;
        try {
          await this.onBatch(ctx, gate);
        } finally {
          this.running--;
          if (this.running === 0) this.lastProgress = Date.now();
        }
      },
    });
    this.o.logger.info({ topics: this.o.topics, groupId: this.o.groupId }, 'kafka consumer running');
    return consumer;
  }

  /** For operators: what the consumer is doing, and the last error kafkajs reported. */
  status(): { state: KafkaSourceState; lastError?: string } {
    return {
      state: reported(this.life),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /** Committed offset, end offset and lag of every partition of the consumed topics. */
  async partitionLag(): Promise<PartitionLagInfo[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const out: PartitionLagInfo[] = [];
      for (const topic of this.o.topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId: this.o.groupId, topics: [topic] });
        for (const end of ends) {
          const c = BigInt(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1');
          const endOffset = BigInt(end.high);
          const lag = endOffset - (c < 0n ? 0n : c);
          out.push({
            topic,
            partition: end.partition,
            committedOffset: c,
            endOffset,
            lag: lag < 0n ? 0n : lag,
          });
        }
      }
      return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    } finally {
      await admin.disconnect();
    }
  }

  /** Graceful: stop fetching, let the batch in progress finish and commit, disconnect. */
  async stop(): Promise<void> {
    if (!this.apply({ type: 'stop' })) return;
    clearInterval(this.watchdog);
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    this.apply({ type: 'stopped' });
  }

  private async onBatch(payload: kafkajs.EachBatchPayload, gate: InFlightGate): Promise<void> {
    // The whole batch is in flight from here until its offsets commit (or it is handed back for a
    // later fetch when the consumer stops or seeks); the gate pauses fetching past the bound.
    const messages = payload.batch.messages;
    let settled = 0; // messages before this index have left the gate
    const release = (upTo: number) => {
      gate.done(upTo - settled);
      settled = upTo;
      this.o.metrics.inFlight.set(gate.inFlight);
    };
    gate.add(messages.length);
    this.o.metrics.inFlight.set(gate.inFlight);
    try {
      await this.consumeBatch(payload, (next) => {
        let i = settled;
        while (i < messages.length && BigInt((messages[i] as KafkaMessage).offset) < next) i++;
        release(i);
      });
    } finally {
      release(messages.length);
    }
  }

  private async consumeBatch(
    { batch, resolveOffset, heartbeat, isRunning, isStale }: kafkajs.EachBatchPayload,
    committedBelow: (next: bigint) => void,
  ): Promise<void> {
    const { topic, partition } = batch;
    const cursorOf = (next: bigint): SourceCursor => ({
      consumerGroup: this.o.groupId,
      topic,
      partition,
      nextOffset: next,
    });
    const applied = this.o.writer.cursor(this.o.groupId, topic, partition);
    const max = this.o.maxBatch ?? 200;
    let pending: Pending[] = [];
    const live = () =>
      isRunning() && !isStale() && this.life.kind !== 'stopping' && this.life.kind !== 'stopped';

    const commit = async (next: bigint) => {
      this.lastProgress = Date.now();
      resolveOffset((next - 1n).toString());
      await this.consumer?.commitOffsets([{ topic, partition, offset: next.toString() }]);
      committedBelow(next);
      this.o.metrics.consumerLag.set(
        { topic, partition: String(partition) },
        Math.max(0, Number(BigInt(batch.highWatermark) - next)),
      );
    };

    const flush = async () => {
      if (pending.length === 0) return;
      const items = pending;
      pending = [];
      await this.appendInOrder(items, cursorOf, heartbeat, live);
      await commit((items[items.length - 1] as Pending).offset + 1n);
    };

    for (const message of batch.messages) {
      if (!live()) break;
      const offset = BigInt(message.offset);
      // Effectively once: SpacetimeDB already holds everything below its cursor.
      if (applied !== undefined && offset < applied) {
        resolveOffset(message.offset);
        continue;
      }
      const decoded = decodeEnvelope(message.value ?? new Uint8Array());
      if (!decoded.ok) {
        await flush();
        await this.deadLetter(message, topic, partition, decoded.error);
        await this.advanceCursor(cursorOf(offset + 1n), heartbeat, live);
        await commit(offset + 1n);
        continue;
      }
      const e = decoded.envelope;
      const origin = { topic, partition, offset };
      this.o.metrics.sawSourceSeq(e.streamId, e.source?.authoritySeq ?? 0n);
      const producedAtMicros = e.producedAt
        ? e.producedAt.seconds * 1_000_000n + BigInt(Math.floor(e.producedAt.nanos / 1000))
        : 0n;
      pending.push({ raw: message, event: toEventInput(e, origin), offset, producedAtMicros });
      if (pending.length >= max) await flush();
    }
    await flush();
    await heartbeat();
  }

  /** Appends in order; a batch refused as a whole is retried event by event to isolate the bad ones. */
  private async appendInOrder(
    items: Pending[],
    cursorOf: (next: bigint) => SourceCursor,
    heartbeat: () => Promise<void>,
    live: () => boolean,
  ): Promise<void> {
    const last = items[items.length - 1] as Pending;
    try {
      await this.timedAppend(items, cursorOf(last.offset + 1n), heartbeat, live);
      return;
    } catch (e) {
      if (!refused(e)) throw e;
    }
    for (const item of items) {
      try {
        await this.timedAppend([item], cursorOf(item.offset + 1n), heartbeat, live);
      } catch (e) {
        if (!refused(e)) throw e;
        await this.deadLetterEvent(item, e);
        await this.advanceCursor(cursorOf(item.offset + 1n), heartbeat, live);
      }
    }
  }

  /**
   * Moves SpacetimeDB's cursor past a dead-lettered message. If the module refuses (the adapter's own
   * identity lost its writer role), the Kafka commit still moves on: the cursor then lags behind and
   * a restart re-reads those messages, which is safe, appends being idempotent. Throwing instead
   * would make kafkajs re-deliver the batch and dead-letter the same messages again and again.
   */
  private async advanceCursor(cursor: SourceCursor, heartbeat: () => Promise<void>, live: () => boolean) {
    try {
      await this.withRetry(() => this.o.writer.appendBatch([], cursor), heartbeat, live);
    } catch (e) {
      if (!refused(e)) throw e;
      this.o.logger.warn(
        { reason: e.reason, detail: e.message, topic: cursor.topic, partition: cursor.partition },
        'SpacetimeDB refused to move the source cursor; continuing on the Kafka commit',
      );
    }
  }

  private async timedAppend(
    items: Pending[],
    cursor: SourceCursor,
    heartbeat: () => Promise<void>,
    live: () => boolean,
  ): Promise<void> {
    const started = performance.now();
    const receipts = await this.withRetry(
      () =>
        this.o.writer.appendBatch(
          items.map((i) => i.event),
          cursor,
        ),
      heartbeat,
      live,
    );
    this.o.metrics.reducerDuration.observe((performance.now() - started) / 1000);
    this.o.metrics.batchSize.observe(items.length);
    const nowMicros = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
    for (const [i, r] of receipts.entries()) {
      this.o.metrics.eventsAppended.inc({ source: 'kafka', outcome: r.status });
      const produced = items[i]?.producedAtMicros ?? 0n;
      if (r.status === 'appended' && produced > 0n)
        this.o.metrics.commitLatency.observe(Number(nowMicros - produced) / 1e6);
    }
  }

  /** ./retry.ts with this source's metrics, logs and heartbeat. */
  private withRetry<T>(
    fn: () => Promise<T>,
    heartbeat: () => Promise<void>,
    live: () => boolean,
  ): Promise<T> {
    return withRetry(fn, {
      live,
      between: async () => {
        await heartbeat().catch(() => {});
        await this.o.writer.waitConnected(10_000).catch(() => {});
      },
      onFailure: (err, retryInMs) => {
        this.o.metrics.reducerErrors.inc({ reason: err.reason });
        if (retryInMs !== undefined) {
          this.o.logger.warn(
            { reason: err.reason, detail: err.message, retryInMs },
            'append failed; retrying',
          );
        }
      },
    });
  }

  private async deadLetter(
    message: KafkaMessage,
    topic: string,
    partition: number,
    error: SyncError,
  ): Promise<void> {
    await this.producer?.send({
      topic: this.o.deadLetterTopic,
      messages: [deadLetterRecord(message, { topic, partition }, error)],
    });
    this.o.metrics.deadLettered.inc({ reason: error.reason });
    this.o.logger.warn(
      { reason: error.reason, detail: error.message, topic, partition, offset: message.offset },
      'dead-lettered',
    );
  }

  private async deadLetterEvent(item: Pending, error: SyncError): Promise<void> {
    await this.deadLetter(item.raw, item.event.kafkaTopic ?? '', item.event.kafkaPartition ?? -1, error);
  }
}
