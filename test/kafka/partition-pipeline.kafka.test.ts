/**
 * Several reducer calls of one partition in flight (KAFKA_PARTITION_CALLS_IN_FLIGHT), through the
 * real broker and the service with its embedded devhost: the events land in the partition's order,
 * each once, and Kafka's offset is committed only past what SpacetimeDB answered durably. When an
 * earlier call is refused while later ones are in flight, the module refuses those later ones too
 * (each names the cursor its predecessor leaves), and the adapter redoes them in order after the
 * refused one: nothing lost, nothing twice, nothing reordered.
 */
import { toBinary } from '@bufbuild/protobuf';
import { afterEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS } from '../../adapter/kafka/kafka-source.js';
import type { RunningService } from '../../adapter/service.js';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { syncEnvelope } from '../support/envelopes.js';
import { createTopics, testKafka, testKafkaConfig, uniqueTopic } from '../support/kafka-env.js';
import { startTestService } from '../support/service-harness.js';

const kafka = testKafka();
const STREAM = 'pipe:1';
let service: RunningService | undefined;

afterEach(async () => {
  await service?.stop();
  service = undefined;
});

const envelope = (key: string, body: string, seq: number) => ({
  key: STREAM,
  value: Buffer.from(toBinary(SyncEnvelopeSchema, syncEnvelope(STREAM, key, body, BigInt(seq)))),
});

/** A topic of one partition holding `messages`, produced before the service starts (one fetch). */
async function backlog(messages: { key: string; value: Buffer }[]) {
  const names = {
    topic: uniqueTopic('pipe'),
    deadLetterTopic: uniqueTopic('pipe-dlq'),
    groupId: uniqueTopic('pipe-g'),
  };
  await createTopics({ topic: names.topic, numPartitions: 1 }, { topic: names.deadLetterTopic });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: names.topic, messages });
  await producer.disconnect();
  return names;
}

/** The stream's events in seq order: key and the Kafka offset each came from. */
async function stored(s: RunningService): Promise<{ key: string; offset: bigint }[]> {
  const rows = (await s.devhost?.tableRows(s.database, 'sync_event')) ?? [];
  return (rows as { stream_id: string; seq: bigint; idempotency_key: string; kafka_offset?: bigint }[])
    .filter((r) => r.stream_id === STREAM)
    .sort((a, b) => (a.seq < b.seq ? -1 : 1))
    .map((r) => ({ key: r.idempotency_key, offset: r.kafka_offset ?? -1n }));
}

async function committedOffset(groupId: string, topic: string): Promise<string | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return t?.partitions[0]?.offset;
  } finally {
    await admin.disconnect();
  }
}

async function metrics(s: RunningService): Promise<string> {
  return (await fetch(`${s.httpUrl}/metrics`)).text();
}

const sample = (text: string, name: string, labels = ''): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ').pop()) : 0;
};

describe('a partition with several reducer calls in flight', () => {
  it('keeps several in flight, lands every event once in offset order, commits the offset after the last answer', async () => {
    const n = 300;
    const names = await backlog(Array.from({ length: n }, (_, i) => envelope(`k${i}`, `body ${i}`, i + 1)));
    service = await startTestService({
      kafka: testKafkaConfig({ ...names, topics: [names.topic], maxBatch: 20, partitionCallsInFlight: 4 }),
    });
    const s = service;
    await expect.poll(async () => (await stored(s)).length, { timeout: 60_000, interval: 200 }).toBe(n);
    const events = await stored(s);
    expect(events.map((e) => e.key)).toEqual(Array.from({ length: n }, (_, i) => `k${i}`));
    expect(events.map((e) => e.offset)).toEqual(Array.from({ length: n }, (_, i) => BigInt(i)));
    await expect.poll(() => committedOffset(names.groupId, names.topic), { timeout: 20_000 }).toBe(String(n));
    const text = await metrics(s);
    const sends = sample(text, 'spacetime_sync_kafka_partition_calls_in_flight_count');
    const alone = sample(text, 'spacetime_sync_kafka_partition_calls_in_flight_bucket', '{le="1"}');
    // At least 15 calls of at most 20 (one fetch holds the backlog); each sent behind another one
    // still unanswered counts above 1, and none beyond the window.
    expect(sends).toBeGreaterThanOrEqual(n / 20);
    expect(sends - alone).toBeGreaterThan(0);
    expect(sample(text, 'spacetime_sync_kafka_partition_calls_in_flight_bucket', '{le="4"}')).toBe(sends);
    expect(sample(text, 'spacetime_sync_kafka_calls_redone_total')).toBe(0);
  }, 120_000);

  it('an earlier call refused while later ones are in flight: no loss, no duplicate, no reorder', async () => {
    const n = 200;
    const bad = 45; // reuses k10's key with another payload: a conflict, its call refused whole
    const names = await backlog(
      Array.from({ length: n }, (_, i) =>
        i === bad ? envelope('k10', 'ANOTHER PAYLOAD', i + 1) : envelope(`k${i}`, `body ${i}`, i + 1),
      ),
    );
    service = await startTestService({
      kafka: testKafkaConfig({ ...names, topics: [names.topic], maxBatch: 20, partitionCallsInFlight: 4 }),
    });
    const s = service;
    const expected = Array.from({ length: n }, (_, i) => i).filter((i) => i !== bad);
    await expect
      .poll(async () => (await stored(s)).length, { timeout: 60_000, interval: 200 })
      .toBe(expected.length);
    await expect.poll(() => committedOffset(names.groupId, names.topic), { timeout: 20_000 }).toBe(String(n));
    const events = await stored(s);
    expect(events.map((e) => e.key)).toEqual(expected.map((i) => `k${i}`));
    expect(events.map((e) => e.offset)).toEqual(expected.map((i) => BigInt(i)));
    const text = await metrics(s);
    // The refused call [40, 60) and the ones already sent behind it were redone one after the other.
    expect(sample(text, 'spacetime_sync_kafka_calls_redone_total')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'spacetime_sync_dead_letter_total', '{reason="conflict"}')).toBe(1);

    const dlq = kafka.consumer({
      groupId: uniqueTopic('pipe-dlq-reader'),
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    await dlq.connect();
    await dlq.subscribe({ topic: names.deadLetterTopic, fromBeginning: true });
    const dead = await new Promise<{ reason: string; offset: string }>((resolve) => {
      void dlq.run({
        eachMessage: async ({ message }) =>
          resolve({
            reason: String(message.headers?.[DEAD_LETTER_HEADERS.reason]),
            offset: String(message.headers?.[DEAD_LETTER_HEADERS.offset]),
          }),
      });
    });
    await dlq.disconnect();
    expect(dead).toEqual({ reason: 'conflict', offset: String(bad) });
  }, 120_000);
});
