/**
 * The dead-letter topic: a refused Kafka message goes there with its exact key and bytes, and the
 * contract reason, the SyncError's sentence and the source coordinates as headers
 * (runbooks/dead-letters.md; dead-letter-replay.ts reads them back).
 */
import type kafkajs from 'kafkajs';
import type { Logger } from 'pino';
import type { SyncError } from '../../shared/errors/sync-error.js';
import type { AdapterMetrics } from '../metrics.js';

export const DEAD_LETTER_HEADERS = {
  reason: 'x-dead-letter-reason',
  detail: 'x-dead-letter-detail',
  topic: 'x-source-topic',
  partition: 'x-source-partition',
  offset: 'x-source-offset',
} as const;

/** Headers are bounded: a detail longer than this is cut. */
const MAX_DETAIL = 1000;

export function deadLetterRecord(
  message: Pick<kafkajs.KafkaMessage, 'key' | 'value' | 'offset'>,
  source: { readonly topic: string; readonly partition: number },
  error: SyncError,
): kafkajs.Message {
  return {
    key: message.key,
    value: message.value,
    headers: {
      [DEAD_LETTER_HEADERS.reason]: error.reason,
      [DEAD_LETTER_HEADERS.detail]: error.message.slice(0, MAX_DETAIL),
      [DEAD_LETTER_HEADERS.topic]: source.topic,
      [DEAD_LETTER_HEADERS.partition]: String(source.partition),
      [DEAD_LETTER_HEADERS.offset]: message.offset,
    },
  };
}

/** Where the batch loop sends a refused message: `source` is where it was read. */
export interface DeadLetterSink {
  deadLetter(
    message: Pick<kafkajs.KafkaMessage, 'key' | 'value' | 'offset'>,
    source: { readonly topic: string; readonly partition: number },
    error: SyncError,
  ): Promise<void>;
}

type Producer = ReturnType<kafkajs.Kafka['producer']>;

/** The production sink: the dead-letter topic through an idempotent producer, counted and logged. */
export class DeadLetterProducer implements DeadLetterSink {
  constructor(
    private readonly producer: Producer,
    private readonly o: {
      readonly topic: string;
      readonly metrics: Pick<AdapterMetrics, 'deadLettered'>;
      readonly logger: Logger;
    },
  ) {}

  async deadLetter(
    message: Pick<kafkajs.KafkaMessage, 'key' | 'value' | 'offset'>,
    source: { readonly topic: string; readonly partition: number },
    error: SyncError,
  ): Promise<void> {
    await this.producer.send({ topic: this.o.topic, messages: [deadLetterRecord(message, source, error)] });
    this.o.metrics.deadLettered.inc({ reason: error.reason });
    this.o.logger.warn(
      {
        reason: error.reason,
        detail: error.message,
        topic: source.topic,
        partition: source.partition,
        offset: message.offset,
      },
      'dead-lettered',
    );
  }
}
