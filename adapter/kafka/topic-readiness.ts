/**
 * Before the consumer subscribes: every topic it reads exists and each partition has a leader. On a
 * fresh broker a topic can be missing or still electing its leader for a few seconds, and subscribing
 * then fails ("This server does not host this topic-partition"); this waits instead, saying what it
 * waits for, or creates the topics when asked to (KAFKA_CREATE_TOPICS=1). Also waits for the brokers
 * themselves, so the service can start before Kafka.
 */
import type { Logger } from 'pino';
import { createKafkaClient, type KafkaClient } from './kafka-client.js';
import type { KafkaSecurity } from './security-config.js';

export interface TopicReadinessOptions {
  readonly brokers: readonly string[];
  /** Topics that must exist with leaders before consuming. */
  readonly topics: readonly string[];
  /** Create missing topics (these and `alsoCreate`) with the broker's defaults instead of waiting. */
  readonly create: boolean;
  /** Created with the others when `create` is set, but not waited for (e.g. the dead-letter topic). */
  readonly alsoCreate?: readonly string[];
  readonly security?: KafkaSecurity;
  readonly logger: Logger;
  /** Returns true once the service is stopping: the wait ends early. */
  readonly stopping?: () => boolean;
}

/** What is not ready yet, as a sentence; undefined when everything is. */
type Check = string | undefined;

export async function waitForTopics(o: TopicReadinessOptions): Promise<void> {
  const kafka = createKafkaClient({
    clientId: 'spacetime-sync-topic-check',
    brokers: o.brokers,
    retries: 0,
    ...(o.security ? { security: o.security } : {}),
  });
  const admin = kafka.admin();
  let said: string | undefined;
  let delay = 250;
  try {
    for (;;) {
      if (o.stopping?.()) return;
      const waiting = await check(admin, o).catch(
        (e: Error) => `Kafka at ${o.brokers.join(',')} (${e.message})`,
      );
      if (waiting === undefined) {
        if (said) o.logger.info({ topics: o.topics }, 'Kafka topics ready');
        return;
      }
      if (waiting !== said) {
        o.logger.warn({ topics: o.topics }, `waiting for ${waiting}`);
        said = waiting;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function check(admin: ReturnType<KafkaClient['admin']>, o: TopicReadinessOptions): Promise<Check> {
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  const missing = o.topics.filter((t) => !existing.has(t));
  if (o.create) {
    const toCreate = [...new Set([...missing, ...(o.alsoCreate ?? []).filter((t) => !existing.has(t))])];
    if (toCreate.length > 0) {
      await admin.createTopics({ topics: toCreate.map((topic) => ({ topic })), waitForLeaders: true });
      o.logger.info({ topics: toCreate }, 'created Kafka topics (KAFKA_CREATE_TOPICS=1)');
      return check(admin, { ...o, create: false });
    }
  }
  if (missing.length > 0)
    return `topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} to exist (create ${missing.length > 1 ? 'them' : 'it'}, or set KAFKA_CREATE_TOPICS=1 to let spacetime-sync create ${missing.length > 1 ? 'them' : 'it'})`;
  const { topics } = await admin.fetchTopicMetadata({ topics: [...o.topics] });
  const leaderless = topics.flatMap((t) =>
    t.partitions.length === 0
      ? [t.name]
      : t.partitions
          .filter((p) => p.leader < 0 || p.partitionErrorCode !== 0)
          .map((p) => `${t.name}/${p.partitionId}`),
  );
  if (leaderless.length > 0) return `partition leaders of ${leaderless.join(', ')} to be elected`;
  return undefined;
}
