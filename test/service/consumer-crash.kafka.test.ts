/**
 * A Kafka consumer that crashes for good (kafkajs gives up on it) against the real broker: the
 * service says it is not ready for as long as the cause lasts, the watchdog keeps replacing the
 * consumer, and once the cause is fixed the consumer runs again, dead-letters what it could not and
 * the service is ready again. A stop() that lands while the watchdog starts a replacement consumer
 * resolves only once that consumer is gone.
 *
 * The crash is a real one: the dead-letter topic only accepts tiny records (max.message.bytes), so
 * dead-lettering a refused envelope fails with a non-retriable broker error inside the batch, which
 * kafkajs answers with a crash it does not restart.
 */
import { toBinary } from '@bufbuild/protobuf';
import kafkajs from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startKafkaConsumer } from '../../adapter/kafka/consumer.js';
import { createKafkaClient } from '../../adapter/kafka/kafka-client.js';
import { DEAD_LETTER_HEADERS, KafkaSource } from '../../adapter/kafka/kafka-source.js';
import { oneShard } from '../../adapter/kafka/shard-sinks.js';
import { createAdapterMetrics } from '../../adapter/metrics.js';
import type { RunningService } from '../../adapter/service.js';
import { createLogger } from '../../adapter/telemetry/logger.js';
import { createMetricsRegistry } from '../../adapter/telemetry/metrics.js';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { embeddedStoredEvents } from '../support/devhost-harness.js';
import { syncEnvelope } from '../support/envelopes.js';
import { createTopics, kafkaBrokers, testKafka, testKafkaConfig, uniqueTopic } from '../support/kafka-env.js';
import { startTestService } from '../support/service-harness.js';

const kafka = testKafka();
const services: RunningService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

const good = (key: string, seq: bigint) => ({
  key: 'acct:1',
  value: Buffer.from(toBinary(SyncEnvelopeSchema, syncEnvelope('acct:1', key, `body ${key}`, seq))),
});
/** Refused by the adapter (payload hash does not match): it goes to the dead-letter topic. */
function tampered(key: string) {
  const e = syncEnvelope('acct:1', key, `body ${key}`, 99n);
  e.payloadHash = new Uint8Array(32);
  return { key: 'acct:1', value: Buffer.from(toBinary(SyncEnvelopeSchema, e)) };
}

async function produce(topic: string, ...messages: { key: string; value: Buffer }[]) {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
}

/** A topic to consume and a dead-letter topic that refuses every real record (for now). */
async function crashingTopics() {
  const topic = uniqueTopic('crash-src');
  const deadLetterTopic = uniqueTopic('crash-dlq');
  const groupId = uniqueTopic('crash-group');
  await createTopics(
    { topic },
    { topic: deadLetterTopic, configEntries: [{ name: 'max.message.bytes', value: '100' }] },
  );
  return { topic, deadLetterTopic, groupId };
}

/** A service consuming such a topic. */
async function crashingService() {
  const { topic, deadLetterTopic, groupId } = await crashingTopics();
  const service = await startTestService({
    kafka: testKafkaConfig({ topics: [topic], groupId, deadLetterTopic, watchdogMs: 1_000 }),
  });
  services.push(service);
  const source = service.kafka;
  if (!source) throw new Error('no Kafka source');
  const readyz = async () => {
    const res = await fetch(`${service.httpUrl}/readyz`);
    return `${res.status} ${(await res.text()).trim()}`;
  };
  const keys = async () =>
    ((await embeddedStoredEvents(service.devhost, service.database)).get('acct:1') ?? []).map((e) => e.key);
  return { topic, deadLetterTopic, groupId, service, source, readyz, keys };
}

const restarts = async (service: RunningService) =>
  Number(
    /spacetime_sync_kafka_consumer_restarts_total (\d+)/.exec(
      await (await fetch(`${service.httpUrl}/metrics`)).text(),
    )?.[1],
  );

describe('a crashed Kafka consumer', () => {
  it('fails /readyz until the watchdog has it running again, then consumes on', async () => {
    const t = await crashingService();
    await produce(t.topic, good('a', 1n));
    await expect.poll(t.keys, { timeout: 30_000 }).toEqual(['a']);
    await expect.poll(t.readyz, { timeout: 30_000 }).toBe('200 ready');

    await produce(t.topic, tampered('bad'), good('c', 2n));
    await expect
      .poll(t.readyz, { timeout: 30_000, interval: 20 })
      .toBe('503 not ready: Kafka consumer crashed');
    expect(t.source.status().lastError).toBeDefined();
    // The watchdog replaces it, the replacement crashes on the same record, and so on: never skipped.
    await expect.poll(() => restarts(t.service), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    expect(await t.keys()).toEqual(['a']);

    // The operator fixes the dead-letter topic; the next replacement gets through.
    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: t.deadLetterTopic,
          configEntries: [{ name: 'max.message.bytes', value: '1048588' }],
        },
      ],
    });
    await admin.disconnect();
    await expect.poll(t.keys, { timeout: 60_000 }).toEqual(['a', 'c']);
    await expect.poll(t.readyz, { timeout: 30_000 }).toBe('200 ready');
    expect(t.source.status().state).toBe('consuming');
    const reasons: string[] = [];
    const reader = kafka.consumer({ groupId: uniqueTopic('dlq-reader') });
    await reader.connect();
    await reader.subscribe({ topic: t.deadLetterTopic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        reasons.push(String(message.headers?.[DEAD_LETTER_HEADERS.reason]));
      },
    });
    await expect.poll(() => reasons, { timeout: 30_000 }).toEqual(['invalid']);
    await reader.disconnect();
  }, 150_000);

  it('stopped while the watchdog starts its replacement, leaves no consumer running once stop() resolves', async () => {
    const { topic, deadLetterTopic, groupId } = await crashingTopics();
    await produce(topic, tampered('bad'));
    const service = await startTestService();
    services.push(service);
    const client = createKafkaClient({ brokers: kafkaBrokers(), clientId: 'crash-test' });
    // Real kafkajs consumers; the second one is the watchdog's replacement, and the stop lands
    // right as it starts connecting.
    let started = 0;
    let replacementSettled = false;
    let stopping: Promise<void> | undefined;
    const source: KafkaSource = new KafkaSource({
      ...testKafkaConfig({ topics: [topic], groupId, deadLetterTopic, watchdogMs: 1_000 }),
      shards: oneShard(service.writer),
      metrics: createAdapterMetrics(createMetricsRegistry({ defaultMetrics: false })),
      logger: createLogger({ level: 'silent' }),
      startConsumer: (setup) => {
        const consumer = startKafkaConsumer(client, setup);
        if (++started === 2) {
          stopping = source.stop();
          const settled = () => {
            replacementSettled = true;
          };
          consumer.then(settled, settled);
        }
        return consumer;
      },
    });
    await source.start();
    await vi.waitFor(
      () => {
        if (!stopping) throw new Error('the watchdog has not restarted the consumer yet');
      },
      { timeout: 60_000, interval: 20 },
    );
    await stopping;
    // The replacement finished coming up before stop() resolved, and was disconnected.
    expect(replacementSettled).toBe(true);
    expect(source.phase).toBe('stopped');
    expect(started).toBe(2);
    const admin = kafka.admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([groupId]);
    await admin.disconnect();
    expect(groups[0]?.members).toEqual([]);
  }, 150_000);
});
