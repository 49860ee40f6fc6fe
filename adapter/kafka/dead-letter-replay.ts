/**
 * Replays dead-lettered envelopes into the topic they came from, once the cause is fixed (a writer
 * granted, a conflicting stream reset, a producer bug patched upstream). Messages keep their key and
 * exact bytes and go out in dead-letter order, so each stream sees them in their original order.
 * Progress is a consumer group of its own: an interrupted replay resumes; a finished one stops at the
 * end offsets it saw at start.
 */
import type kafkajs from 'kafkajs';
import { DEAD_LETTER_HEADERS } from './dead-letter.js';
import { createKafkaClient } from './kafka-client.js';
import type { KafkaSecurity } from './security-config.js';

export interface ReplayOptions {
  readonly brokers: readonly string[];
  readonly deadLetterTopic: string;
  /** TLS/SASL to the brokers (KAFKA_TLS*, KAFKA_SASL_*). */
  readonly security?: KafkaSecurity;
  /** Only these reasons (x-dead-letter-reason); all when empty. */
  readonly reasons?: readonly string[];
  /** Override the destination; default: each message's x-source-topic header. */
  readonly toTopic?: string;
  readonly groupId?: string;
  readonly dryRun?: boolean;
  readonly onMessage?: (info: {
    reason: string;
    /** What the adapter said when it dead-lettered the message. */
    detail: string;
    sourceTopic: string;
    sourceOffset: string;
    replayed: boolean;
  }) => void;
}

export interface ReplayResult {
  readonly replayed: number;
  readonly skipped: number;
}

const header = (headers: kafkajs.IHeaders | undefined, name: string): string => {
  const v = headers?.[name];
  return v === undefined ? '' : Array.isArray(v) ? String(v[0]) : String(v);
};

/** The group coordinator can still be loading right after a broker starts: retry briefly. */
async function retrying<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts || !(e as { retriable?: boolean }).retriable) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function replayDeadLetters(o: ReplayOptions): Promise<ReplayResult> {
  const kafka = createKafkaClient({
    clientId: 'spacetime-sync-dlq-replay',
    brokers: o.brokers,
    ...(o.security ? { security: o.security } : {}),
  });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(o.deadLetterTopic);
  const groupId = o.dryRun
    ? `${o.deadLetterTopic}.dry-run.${Date.now()}`
    : (o.groupId ?? `${o.deadLetterTopic}.replay`);
  // What an earlier run already replayed: its committed offsets.
  const committed = new Map<number, bigint>();
  for (const t of await retrying(() => admin.fetchOffsets({ groupId, topics: [o.deadLetterTopic] }))) {
    for (const p of t.partitions) committed.set(p.partition, BigInt(p.offset));
  }
  await admin.disconnect();
  const remaining = new Map(
    ends.map((p) => [
      p.partition,
      BigInt(p.high) -
        ((committed.get(p.partition) ?? -1n) < 0n ? BigInt(p.low) : (committed.get(p.partition) as bigint)),
    ]),
  );
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  // (A dry run reads with a throwaway group so it does not consume the real replay's progress.)
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: o.deadLetterTopic, fromBeginning: true });
  let replayed = 0;
  let skipped = 0;
  const done = () => [...remaining.values()].every((v) => v <= 0n);
  await new Promise<void>((resolve, reject) => {
    // Partitions already at their end (or empty, or fully replayed before) need nothing.
    if (done()) return resolve();
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const high = ends.find((e) => e.partition === partition);
          const reason = header(message.headers, DEAD_LETTER_HEADERS.reason);
          const sourceTopic = header(message.headers, DEAD_LETTER_HEADERS.topic);
          const wanted = !o.reasons?.length || o.reasons.includes(reason);
          const destination = o.toTopic ?? sourceTopic;
          if (wanted && destination && !o.dryRun) {
            await producer.send({
              topic: destination,
              messages: [{ key: message.key, value: message.value }],
            });
            replayed++;
          } else skipped++;
          o.onMessage?.({
            reason,
            detail: header(message.headers, DEAD_LETTER_HEADERS.detail),
            sourceTopic,
            sourceOffset: header(message.headers, DEAD_LETTER_HEADERS.offset),
            replayed: wanted && !o.dryRun,
          });
          if (!o.dryRun)
            await consumer.commitOffsets([{ topic, partition, offset: String(BigInt(message.offset) + 1n) }]);
          if (high && BigInt(message.offset) + 1n >= BigInt(high.high)) remaining.set(partition, 0n);
          if (done()) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  await producer.disconnect();
  return { replayed, skipped };
}
