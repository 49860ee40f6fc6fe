/**
 * Test-only: the local stack a runbook scenario puts in its situation — a running service on topics
 * of its own (the shared test broker unless given others), writing to devhost (embedded unless
 * given one), and a producer of authority events for it.
 */
import { toBinary } from '@bufbuild/protobuf';
import type { Devhost } from '@spacetime-sync/devhost';
import kafkajs from 'kafkajs';
import type { KafkaConfig } from '../../../adapter/config.js';
import type { RunningService } from '../../../adapter/service.js';
import { SyncEnvelopeSchema } from '../../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { SYNC_DB } from '../../support/devhost-harness.js';
import { syncEnvelope } from '../../support/envelopes.js';
import { createTopicsOn, kafkaBrokers, testKafkaConfig, uniqueTopic } from '../../support/kafka-env.js';
import { startTestService } from '../../support/service-harness.js';

export interface RunbookStack {
  readonly service: RunningService;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly brokers: string[];
  /** Publishes authority seqs `from`..`from + count - 1` of `stream` (keys k<seq>) to the service's topic. */
  produce(stream: string, count: number, from?: number): Promise<void>;
  /** The service's /metrics, as text. */
  scrape(): Promise<string>;
}

export async function runbookStack(
  o: { devhost?: Devhost; token?: string; brokers?: string[]; kafka?: Partial<KafkaConfig> } = {},
): Promise<RunbookStack> {
  const brokers = o.brokers ?? kafkaBrokers();
  const topic = uniqueTopic('runbook-authority');
  const deadLetterTopic = uniqueTopic('runbook-dlq');
  await createTopicsOn(brokers, { topic }, { topic: deadLetterTopic });
  const service = await startTestService({
    ...(o.devhost
      ? {
          spacetime: {
            kind: 'remote',
            uri: o.devhost.url,
            database: SYNC_DB,
            ...(o.token ? { token: o.token } : {}),
          },
        }
      : {}),
    kafka: {
      ...testKafkaConfig({ topics: [topic], groupId: uniqueTopic('runbook-adapter'), deadLetterTopic }),
      brokers,
      ...o.kafka,
    },
  });
  return {
    service,
    topic,
    deadLetterTopic,
    brokers,
    async produce(stream, count, from = 1) {
      const producer = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).producer();
      await producer.connect();
      try {
        await producer.send({
          topic,
          messages: Array.from({ length: count }, (_, i) => {
            const seq = from + i;
            return {
              key: stream,
              value: Buffer.from(
                toBinary(SyncEnvelopeSchema, syncEnvelope(stream, `k${seq}`, `event ${seq}`, BigInt(seq))),
              ),
            };
          }),
        });
      } finally {
        await producer.disconnect();
      }
    },
    async scrape() {
      return (await fetch(`${service.httpUrl}/metrics`)).text();
    },
  };
}
