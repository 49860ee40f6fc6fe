/** What tests of the `kafka` project need: the broker list, unique topic names, a quiet client. */
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { expect, inject, vi } from 'vitest';
import type { KafkaConfig } from '../../adapter/config.js';
import './kafka-global-setup.js';

const { Kafka, logLevel } = kafkajs;

export function kafkaBrokers(): string[] {
  return inject('kafkaBrokers')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/** A topic name no other test (or earlier run against a shared cluster) uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}.${randomUUID().slice(0, 8)}`;
}

export function testKafka(clientId = 'spacetime-sync-test'): InstanceType<typeof Kafka> {
  return new Kafka({ clientId, brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
}

/** The service's Kafka settings for a test: this broker, quick rebalances, then `settings`. */
export function testKafkaConfig(
  settings: Pick<KafkaConfig, 'topics' | 'groupId' | 'deadLetterTopic'> & Partial<KafkaConfig>,
): KafkaConfig {
  return {
    brokers: kafkaBrokers(),
    watchdogMs: 60_000,
    maxInFlight: 5_000,
    sessionTimeoutMs: 6_000,
    ...settings,
  };
}

/**
 * Creates topics (one partition and the broker's settings unless given) on the test broker, or on
 * `brokers`, and returns once the broker serves each one's metadata with every partition led.
 *
 * kafkajs's own `waitForLeaders` is not enough: KRaft answers CreateTopics once the controller has
 * committed the topics, and the broker applies that to the metadata it serves a moment later — on a
 * loaded machine, long enough for the metadata request kafkajs then sends to be answered
 * UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this topic-partition"), which kafkajs waits
 * out only as LEADER_NOT_AVAILABLE. So the creation does not wait, and this waits for the metadata.
 */
export async function createTopics(...topics: kafkajs.ITopicConfig[]): Promise<void> {
  await createTopicsOn(kafkaBrokers(), ...topics);
}

export async function createTopicsOn(brokers: string[], ...topics: kafkajs.ITopicConfig[]): Promise<void> {
  const admin = new Kafka({ clientId: 'spacetime-sync-test', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics, waitForLeaders: false });
    await vi.waitFor(
      async () => {
        // Throws (and is asked again) while the broker does not host a topic yet.
        const served = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
        for (const { topic, numPartitions } of topics) {
          const partitions = served.topics.find((t) => t.name === topic)?.partitions ?? [];
          // Without a count the broker's default applies: at least one.
          if (numPartitions !== undefined && numPartitions > 0)
            expect(partitions.length, `partitions of ${topic}`).toBe(numPartitions);
          else expect(partitions.length, `partitions of ${topic}`).toBeGreaterThan(0);
          for (const p of partitions)
            expect(p.leader, `leader of ${topic}/${p.partitionId}`).toBeGreaterThanOrEqual(0);
        }
      },
      { timeout: 60_000, interval: 100 },
    );
  } finally {
    await admin.disconnect();
  }
}
