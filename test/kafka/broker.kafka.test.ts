/** The broker the tests run against is a real Kafka: groups, partitions and committed offsets behave. */
import { describe, expect, it } from 'vitest';
import { createTopics, testKafka, uniqueTopic } from '../support/kafka-env.js';

describe('the test broker', () => {
  it('keeps per-partition order for a consumer group and reports committed offsets', async () => {
    const kafka = testKafka();
    const topic = uniqueTopic('order');
    const groupId = uniqueTopic('group');
    const admin = kafka.admin();
    await admin.connect();
    await createTopics({ topic, numPartitions: 3 });
    const producer = kafka.producer();
    await producer.connect();
    const keys = ['a', 'b', 'c', 'd'];
    for (let i = 0; i < 20; i++)
      await producer.send({ topic, messages: [{ key: keys[i % keys.length] as string, value: String(i) }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const byKey = new Map<string, number[]>();
    let count = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        autoCommitInterval: 50,
        eachMessage: async ({ message }) => {
          const k = String(message.key);
          byKey.set(k, [...(byKey.get(k) ?? []), Number(String(message.value))]);
          if (++count === 20) resolve();
        },
      });
    });
    const committed = async () => {
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      // A partition that received nothing reports -1.
      return offsets[0]?.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    };
    // Offsets are committed asynchronously after each message is processed.
    await expect.poll(committed, { timeout: 10_000, interval: 100 }).toBe(20);
    await consumer.disconnect();
    for (const [k, values] of byKey) {
      const i = keys.indexOf(k);
      expect(values).toEqual(Array.from({ length: 5 }, (_, j) => i + j * keys.length));
    }
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });
});
