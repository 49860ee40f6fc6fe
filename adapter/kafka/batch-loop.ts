/**
 * One fetched batch of one partition, in order, into the ReducerSink: valid envelopes are appended
 * in groups whose transaction also stores the partition's next offset (the source cursor), so the
 * sink — not Kafka — is the record of what was applied; what the cursor already covers is skipped.
 * A refused envelope (./disposition.ts) goes to the dead-letter topic with its reason and the cursor
 * moves past it; a group refused as a whole is retried event by event to isolate the bad ones;
 * anything else is retried with backoff (./retry.ts) and never skipped. Kafka offsets are committed
 * after the write, for lag tooling. No kafkajs here: the loop sees a batch through `BatchPayload`.
 */
import type kafkajs from 'kafkajs';
import type { Logger } from 'pino';
import { decodeEnvelope } from '../envelope/decode.js';
import { type EventInput, toEventInput } from '../envelope/to-event.js';
import type { AdapterMetrics } from '../metrics.js';
import type { ReducerSink, SourceCursor } from '../ports/reducer-sink.js';
import type { DeadLetterSink } from './dead-letter.js';
import type { InFlightGate } from './in-flight-gate.js';
import { refused, withRetry } from './retry.js';

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
  | 'eventsAppended'
  | 'commitLatency'
>;

export interface BatchLoopOptions {
  readonly sink: ReducerSink;
  readonly deadLetters: DeadLetterSink;
  readonly groupId: string;
  /** Events per append call. */
  readonly maxBatch: number;
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

interface Pending {
  /** The original message: a refused event is dead-lettered with its exact bytes. */
  readonly raw: Message;
  readonly event: EventInput;
  readonly offset: bigint;
  readonly producedAtMicros: bigint;
}

/** Helpers one batch shares: where its cursor points, its heartbeat, whether it is still wanted. */
interface BatchScope {
  readonly topic: string;
  readonly partition: number;
  readonly cursorOf: (next: bigint) => SourceCursor;
  readonly heartbeat: () => Promise<void>;
  readonly live: () => boolean;
}

export class BatchLoop {
  constructor(private readonly o: BatchLoopOptions) {}

  /**
   * Runs one batch. The whole batch is in flight from here until its offsets commit (or it is
   * handed back for a later fetch when the consumer stops or seeks); `gate` pauses fetching past
   * its bound.
   */
  async run(payload: BatchPayload, gate: InFlightGate, commitOffset: CommitOffset): Promise<void> {
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
      await this.consume(payload, commitOffset, (next) => {
        let i = settled;
        while (i < messages.length && BigInt((messages[i] as Message).offset) < next) i++;
        release(i);
      });
    } finally {
      release(messages.length);
    }
  }

  private async consume(
    { batch, resolveOffset, heartbeat, isRunning, isStale }: BatchPayload,
    commitOffset: CommitOffset,
    committedBelow: (next: bigint) => void,
  ): Promise<void> {
    const { topic, partition } = batch;
    const scope: BatchScope = {
      topic,
      partition,
      cursorOf: (next) => ({ consumerGroup: this.o.groupId, topic, partition, nextOffset: next }),
      heartbeat,
      live: () => isRunning() && !isStale() && !this.o.stopping(),
    };
    const applied = this.o.sink.cursor(this.o.groupId, topic, partition);
    let pending: Pending[] = [];

    const commit = async (next: bigint) => {
      this.o.progressed();
      resolveOffset((next - 1n).toString());
      await commitOffset(topic, partition, next);
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
      await this.appendInOrder(items, scope);
      await commit((items[items.length - 1] as Pending).offset + 1n);
    };

    for (const message of batch.messages) {
      if (!scope.live()) break;
      const offset = BigInt(message.offset);
      // Effectively once: the sink already holds everything below its cursor.
      if (applied !== undefined && offset < applied) {
        resolveOffset(message.offset);
        continue;
      }
      const decoded = decodeEnvelope(message.value ?? new Uint8Array());
      if (!decoded.ok) {
        await flush();
        await this.o.deadLetters.deadLetter(message, { topic, partition }, decoded.error);
        await this.advanceCursor(scope.cursorOf(offset + 1n), scope);
        await commit(offset + 1n);
        continue;
      }
      const e = decoded.envelope;
      this.o.metrics.sawSourceSeq(e.streamId, e.source?.authoritySeq ?? 0n);
      const producedAtMicros = e.producedAt
        ? e.producedAt.seconds * 1_000_000n + BigInt(Math.floor(e.producedAt.nanos / 1000))
        : 0n;
      const event = toEventInput(e, { topic, partition, offset });
      pending.push({ raw: message, event, offset, producedAtMicros });
      if (pending.length >= this.o.maxBatch) await flush();
    }
    await flush();
    await heartbeat();
  }

  /** Appends in order; a group refused as a whole is retried event by event to isolate the bad ones. */
  private async appendInOrder(items: Pending[], scope: BatchScope): Promise<void> {
    const last = items[items.length - 1] as Pending;
    try {
      await this.timedAppend(items, scope.cursorOf(last.offset + 1n), scope);
      return;
    } catch (e) {
      if (!refused(e)) throw e;
    }
    for (const item of items) {
      try {
        await this.timedAppend([item], scope.cursorOf(item.offset + 1n), scope);
      } catch (e) {
        if (!refused(e)) throw e;
        // Refused: its authority seq must not count as seen (it would poison the lag gauge).
        this.o.metrics.refusedSourceSeq(item.event.streamId, item.event.sourceSeq);
        await this.o.deadLetters.deadLetter(item.raw, { topic: scope.topic, partition: scope.partition }, e);
        await this.advanceCursor(scope.cursorOf(item.offset + 1n), scope);
      }
    }
  }

  /**
   * Moves the sink's cursor past a dead-lettered message. If the module refuses (the adapter's own
   * identity lost its writer role), the Kafka commit still moves on: the cursor then lags behind and
   * a restart re-reads those messages, which is safe, appends being idempotent. Throwing instead
   * would make kafkajs re-deliver the batch and dead-letter the same messages again and again.
   */
  private async advanceCursor(cursor: SourceCursor, scope: BatchScope): Promise<void> {
    try {
      await this.retrying(() => this.o.sink.appendBatch([], cursor), scope);
    } catch (e) {
      if (!refused(e)) throw e;
      this.o.logger.warn(
        { reason: e.reason, detail: e.message, topic: cursor.topic, partition: cursor.partition },
        'SpacetimeDB refused to move the source cursor; continuing on the Kafka commit',
      );
    }
  }

  private async timedAppend(items: Pending[], cursor: SourceCursor, scope: BatchScope): Promise<void> {
    const started = performance.now();
    const receipts = await this.retrying(
      () =>
        this.o.sink.appendBatch(
          items.map((i) => i.event),
          cursor,
        ),
      scope,
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

  /** ./retry.ts with this loop's metrics, logs and heartbeat. */
  private retrying<T>(fn: () => Promise<T>, scope: BatchScope): Promise<T> {
    return withRetry(fn, {
      live: scope.live,
      between: async () => {
        await scope.heartbeat().catch(() => {});
        await this.o.sink.waitConnected(10_000).catch(() => {});
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
      ...(this.o.sleep ? { sleep: this.o.sleep } : {}),
      ...(this.o.maxUnexplained !== undefined ? { maxUnexplained: this.o.maxUnexplained } : {}),
    });
  }
}
