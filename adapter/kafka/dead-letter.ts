/**
 * The dead-letter record of a refused Kafka message: its exact key and bytes, with the contract
 * reason, the SyncError's sentence and the source coordinates as headers (runbooks/dead-letters.md;
 * dead-letter-replay.ts reads them back).
 */
import type kafkajs from 'kafkajs';
import type { SyncError } from '../../shared/errors/sync-error.js';

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
