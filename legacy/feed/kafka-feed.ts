/**
 * The legacy lane's own Kafka consumer: the same authority topics the adapter consumes, under its own
 * consumer group, so one authority log reaches both lanes. Offsets are committed only after the batch
 * is in the journal (fsynced); a redelivery after a crash is recognised by the journal's idempotency
 * index and keeps its first watermark. Envelopes that fail decoding are skipped and counted here — the
 * adapter dead-letters them with their reason, and a second dead letter would double them.
 */
import kafkajs from 'kafkajs';
import type { Logger } from 'pino';
import { decodeEnvelope } from '../../adapter/envelope/decode.js';
import type { SyncEnvelope } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import type { AcceptedEnvelopeSink } from './mirror.js';

const { Kafka, logLevel } = kafkajs;
type Consumer = ReturnType<InstanceType<typeof Kafka>['consumer']>;

export interface KafkaFeedOptions {
  readonly brokers: readonly string[];
  readonly topics: readonly string[];
  readonly groupId: string;
  readonly sink: AcceptedEnvelopeSink;
  readonly logger: Logger;
  readonly sessionTimeoutMs?: number;
}

type FeedState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'starting'; readonly consumer: Consumer }
  | { readonly kind: 'running'; readonly consumer: Consumer }
  | { readonly kind: 'stopped' };

export class LegacyKafkaFeed {
  private state: FeedState = { kind: 'idle' };
  private skipped = 0;

  constructor(private readonly o: KafkaFeedOptions) {}

  /** Envelopes skipped because they did not decode or validate (the adapter dead-letters them). */
  get invalidEnvelopes(): number {
    return this.skipped;
  }

  async start(): Promise<void> {
    if (this.state.kind !== 'idle')
      throw new Error(`legacy lane Kafka feed cannot start from ${this.state.kind}`);
    const kafka = new Kafka({
      clientId: 'spacetime-sync-legacy-lane',
      brokers: [...this.o.brokers],
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({
      groupId: this.o.groupId,
      sessionTimeout: this.o.sessionTimeoutMs ?? 15_000,
      heartbeatInterval: 1_000,
    });
    this.state = { kind: 'starting', consumer };
    await consumer.connect();
    for (const topic of this.o.topics) await consumer.subscribe({ topic, fromBeginning: true });
    if (this.state.kind !== 'starting') return; // stopped while connecting
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        const envelopes: SyncEnvelope[] = [];
        for (const message of batch.messages) {
          const decoded = decodeEnvelope(message.value ?? new Uint8Array());
          if (decoded.ok) envelopes.push(decoded.envelope);
          else this.skipped++;
        }
        await this.o.sink.accept(envelopes);
        if (!isRunning() || isStale()) return;
        const last = batch.messages[batch.messages.length - 1];
        if (!last) return;
        resolveOffset(last.offset);
        const next = (BigInt(last.offset) + 1n).toString();
        await commitOffsetsIfNecessary({
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
        });
        await heartbeat();
      },
    });
    if (this.state.kind === 'starting') this.state = { kind: 'running', consumer };
    this.o.logger.info({ topics: this.o.topics, groupId: this.o.groupId }, 'legacy lane Kafka feed running');
  }

  async stop(): Promise<void> {
    const s = this.state;
    this.state = { kind: 'stopped' };
    if (s.kind === 'starting' || s.kind === 'running') await s.consumer.disconnect();
  }
}
