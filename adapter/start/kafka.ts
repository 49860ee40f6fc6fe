/**
 * Start step 6, the Kafka source (only when brokers are configured): wait for the topics (created
 * when asked), then start the consumer. A stop while waiting ends the start. kafkajs is imported
 * here, at this step, so a service without brokers never loads it (≈12 MiB of an idle process).
 */

import type { Logger } from 'pino';
import type { ServiceConfig } from '../config.js';
import type { KafkaSource } from '../kafka/kafka-source.js';
import type { AdapterMetrics } from '../metrics.js';
import type { ServiceLifecycle } from '../service-lifecycle.js';
import type { ShardSet } from '../shards/shard-set.js';

export async function startKafka(deps: {
  readonly kafka: NonNullable<ServiceConfig['kafka']>;
  readonly shards: ShardSet;
  readonly metrics: AdapterMetrics;
  readonly logger: Logger;
  readonly life: ServiceLifecycle;
  /** Called with the source before it starts: the service's readiness reads it from then on. */
  readonly created: (source: KafkaSource) => void;
}): Promise<KafkaSource> {
  const { kafka, life } = deps;
  const logger = deps.logger.child({ subsystem: 'kafka' });
  const [{ KafkaSource }, { waitForTopics }] = await Promise.all([
    import('../kafka/kafka-source.js'),
    import('../kafka/topic-readiness.js'),
  ]);
  await waitForTopics({
    brokers: kafka.brokers,
    topics: kafka.topics,
    create: kafka.createTopics === true,
    alsoCreate: [kafka.deadLetterTopic],
    ...(kafka.security ? { security: kafka.security } : {}),
    logger,
    stopping: () => life.kind !== 'starting',
  }).catch(life.failed);
  await life.checkpoint();
  const source = new KafkaSource({ ...kafka, shards: deps.shards.sinks(), metrics: deps.metrics, logger });
  deps.created(source);
  // Recorded before it starts: a stop during its start must stop it too.
  life.started(() => source.stop());
  await source.start().catch(life.failed);
  await life.checkpoint();
  return source;
}
