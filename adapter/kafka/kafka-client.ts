/**
 * The one place a kafkajs client is built from the service's Kafka settings (brokers, TLS and
 * SASL), so the consumer, the topic check and the dead-letter replay
 * connect alike. kafkajs is in maintenance mode: its client is created nowhere else in adapter/.
 */
import kafkajs from 'kafkajs';
import type { Logger } from 'pino';
import { type KafkaSecurity, kafkaClientSecurity } from './security-config.js';

const { Kafka, logLevel } = kafkajs;

export type KafkaClient = InstanceType<typeof Kafka>;

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** kafkajs's own failures, as warnings; without it kafkajs stays silent. */
  readonly logger?: Logger;
  /** kafkajs's retry policy for its own requests (its default when absent). */
  readonly retries?: number;
  /** TLS and SASL to the brokers (security-config.ts); absent: plaintext. */
  readonly security?: KafkaSecurity;
}

export function createKafkaClient(o: KafkaClientOptions): KafkaClient {
  const logger = o.logger;
  return new Kafka({
    clientId: o.clientId,
    brokers: [...o.brokers],
    ...kafkaClientSecurity(o.security),
    ...(o.retries !== undefined ? { retry: { retries: o.retries } } : {}),
    ...(logger
      ? {
          logLevel: logLevel.ERROR,
          logCreator:
            () =>
            ({ level, log }) => {
              // kafkajs logs retried failures (a coordinator still loading, a leader being elected)
              // at ERROR; what ends in a failure is reported by its user at error.
              if (level <= logLevel.ERROR) logger.warn({ kafka: log.message, error: log.error }, 'kafkajs');
            },
        }
      : { logLevel: logLevel.NOTHING }),
  });
}
