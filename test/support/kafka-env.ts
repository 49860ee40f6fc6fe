/** What tests of the `kafka` project need: the broker list, unique topic names, a quiet client. */
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { inject } from 'vitest';
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

/** Creates topics (one partition and the broker's settings unless given) and waits until each has a leader. */
export async function createTopics(...topics: kafkajs.ITopicConfig[]): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}
