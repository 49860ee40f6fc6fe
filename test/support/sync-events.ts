/** `EventInput`s for the append reducers, as tests and benchmarks build them. */
import { createHash } from 'node:crypto';
import { Timestamp } from 'spacetimedb';
import type { EventInput } from '../../adapter/envelope/to-event.js';

export interface EventOptions {
  readonly kind?: string;
  readonly body?: string;
  readonly sourceTopic?: string;
  readonly sourceSeq?: bigint;
}

export function eventInput(stream: string, key: string, options: EventOptions = {}): EventInput {
  const payload = new TextEncoder().encode(options.body ?? `${stream}:${key}`);
  return {
    streamId: stream,
    idempotencyKey: key,
    kind: options.kind ?? 'test.v1',
    payload,
    payloadHash: new Uint8Array(createHash('sha256').update(payload).digest()),
    compactionKey: undefined,
    sourceTopic: options.sourceTopic ?? 'authority',
    sourceSeq: options.sourceSeq ?? 0n,
    kafkaTopic: undefined,
    kafkaPartition: undefined,
    kafkaOffset: undefined,
    producedAt: Timestamp.now(),
  };
}
