/**
 * The adapter end to end: envelopes produced to a real Kafka broker, the service consuming them into
 * the sync module on devhost, bad ones dead-lettered with their reason, the Connect ingest API, and
 * the metrics an SRE scrapes.
 */
import { toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS } from '../../adapter/kafka/kafka-source.js';
import type { RunningService } from '../../adapter/service.js';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { embeddedStoredEvents } from '../support/devhost-harness.js';
import { syncEnvelope } from '../support/envelopes.js';
import { createTopics, testKafka, testKafkaConfig, uniqueTopic } from '../support/kafka-env.js';
import { startTestService } from '../support/service-harness.js';

const topic = uniqueTopic('authority');
const deadLetterTopic = uniqueTopic('dead-letter');
const groupId = uniqueTopic('adapter');
let service: RunningService;
const kafka = testKafka();

const envelope = syncEnvelope;

async function produce(messages: { key: string; value: Uint8Array }[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: messages.map((m) => ({ key: m.key, value: Buffer.from(m.value) })),
  });
  await producer.disconnect();
}

async function scrape(): Promise<string> {
  return (await fetch(`${service.httpUrl}/metrics`)).text();
}

function metric(text: string, name: string, labels = ''): number {
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (labels === '' && l.startsWith(`${name} `)),
    );
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

beforeAll(async () => {
  await createTopics({ topic, numPartitions: 3 }, { topic: deadLetterTopic });
  // A tiny in-flight bound: every batch of more than 4 events pauses fetching until it commits.
  service = await startTestService({
    kafka: testKafkaConfig({ topics: [topic], groupId, deadLetterTopic, maxInFlight: 4 }),
  });
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

/** Per stream: the idempotency keys in seq order, read off the host (a missing seq shows as GAP@n). */
async function streamKeys(): Promise<Map<string, string[]>> {
  return new Map(
    [...(await embeddedStoredEvents(service.devhost, service.database))].map(([s, l]) => [
      s,
      l.map((x, i) => (x.seq === BigInt(i + 1) ? x.key : `GAP@${i + 1}`)),
    ]),
  );
}

describe('adapter: Kafka → SpacetimeDB', () => {
  it('appends exactly the expected per-stream sequences and dead-letters exactly the bad envelopes', async () => {
    const good = (s: string, k: string, seq: bigint) => ({
      key: s,
      value: toBinary(SyncEnvelopeSchema, envelope(s, k, `${s}/${k}`, seq)),
    });
    const tampered = envelope('orders:1', 'o1', 'orders:1/o1', 1n);
    tampered.payloadHash = new Uint8Array(32);
    await produce([
      good('orders:1', 'o1', 1n),
      good('orders:2', 'p1', 1n),
      good('orders:1', 'o2', 2n),
      good('orders:1', 'o1', 1n), // duplicate: a no-op
      { key: 'orders:1', value: new TextEncoder().encode('not a protobuf at all \u0000\u00ff') }, // malformed
      { key: 'orders:1', value: toBinary(SyncEnvelopeSchema, envelope('orders:1', 'o2', 'DIFFERENT', 2n)) }, // conflict
      { key: 'orders:1', value: toBinary(SyncEnvelopeSchema, tampered) }, // hash mismatch
      good('orders:3', 'q1', 7n),
      good('orders:3', 'q0', 5n), // a new key from the authority's past: a source regression
      good('orders:1', 'o3', 3n),
      good('orders:2', 'p2', 4n), // authority seqs 2 and 3 never arrive: a recorded gap
    ]);
    await expect
      .poll(async () => Object.fromEntries(await streamKeys()), { timeout: 30_000, interval: 200 })
      .toEqual({ 'orders:1': ['o1', 'o2', 'o3'], 'orders:2': ['p1', 'p2'], 'orders:3': ['q1'] });

    const consumer = kafka.consumer({
      groupId: uniqueTopic('dlq-reader'),
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: deadLetterTopic, fromBeginning: true });
    const dead: { reason: string; detail: string; value: string; offset: string }[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          dead.push({
            reason: String(message.headers?.[DEAD_LETTER_HEADERS.reason]),
            detail: String(message.headers?.[DEAD_LETTER_HEADERS.detail]),
            value: message.value?.toString('utf8') ?? '',
            offset: String(message.headers?.[DEAD_LETTER_HEADERS.offset]),
          });
          if (dead.length === 4) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(dead.map((d) => d.reason).sort()).toEqual(['conflict', 'invalid', 'invalid', 'source_regression']);
    // The detail names the broken rule: bytes that do not decode, a hash that does not match.
    const undecodable = dead.find((d) => d.detail.includes('[envelope.decode]'));
    expect(undecodable?.value).toBe('not a protobuf at all \u0000\u00ff');
    expect(dead.filter((d) => d.detail.includes('[payload_hash.mismatch]'))).toHaveLength(1);
    expect(dead.find((d) => d.reason === 'source_regression')?.detail).toMatch(/authority seq 7 .* offers 5/);
    expect(dead.every((d) => /^\d+$/.test(d.offset))).toBe(true);
  }, 60_000);

  it('exposes metrics that moved with the flow, and consumer lag back at 0 when idle', async () => {
    await expect
      .poll(
        async () =>
          metric(
            await scrape(),
            'spacetime_sync_kafka_consumer_lag_messages',
            `partition="0",topic="${topic}"`,
          ) || 0,
        { timeout: 10_000 },
      )
      .toBe(0);
    const text = await scrape();
    expect(metric(text, 'spacetime_sync_events_appended_total', 'source="kafka",outcome="appended"')).toBe(6);
    expect(metric(text, 'spacetime_sync_events_appended_total', 'source="kafka",outcome="duplicate"')).toBe(
      1,
    );
    expect(metric(text, 'spacetime_sync_dead_letter_total', 'reason="conflict"')).toBe(1);
    expect(metric(text, 'spacetime_sync_dead_letter_total', 'reason="invalid"')).toBe(2);
    expect(metric(text, 'spacetime_sync_dead_letter_total', 'reason="source_regression"')).toBe(1);
    expect(metric(text, 'spacetime_sync_spacetimedb_connected')).toBe(1);
    expect(metric(text, 'spacetime_sync_source_gap_missing_seqs', 'family="orders"')).toBe(2);
    expect(text).toMatch(/spacetime_sync_produced_to_committed_seconds_count \d+/);
    expect((await fetch(`${service.httpUrl}/readyz`)).status).toBe(200);
  });

  it('pauses fetching past the in-flight bound and resumes once drained, so a backlog in rounds still lands', async () => {
    const pausesBefore = metric(await scrape(), 'spacetime_sync_kafka_fetch_pauses_total');
    const keys: string[] = [];
    for (let round = 0; round < 3; round++) {
      // Each round is a batch past the bound: it only gets fetched if the previous pause was lifted.
      const batch = Array.from({ length: 12 }, (_, i) => {
        const n = round * 12 + i + 1;
        keys.push(`b${n}`);
        return {
          key: 'backlog:1',
          value: toBinary(SyncEnvelopeSchema, envelope('backlog:1', `b${n}`, `b${n}`, BigInt(n))),
        };
      });
      await produce(batch);
      await expect
        .poll(async () => (await streamKeys()).get('backlog:1')?.length ?? 0, {
          timeout: 20_000,
          interval: 100,
        })
        .toBe(keys.length);
    }
    expect((await streamKeys()).get('backlog:1')).toEqual(keys);
    const text = await scrape();
    expect(metric(text, 'spacetime_sync_kafka_fetch_pauses_total') - pausesBefore).toBeGreaterThanOrEqual(3);
    await expect
      .poll(async () => {
        const t = await scrape();
        return [metric(t, 'spacetime_sync_kafka_fetch_paused'), metric(t, 'spacetime_sync_in_flight_events')];
      })
      .toEqual([0, 0]);
  }, 90_000);
});
