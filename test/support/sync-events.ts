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
    stream_id: stream,
    idempotency_key: key,
    kind: options.kind ?? 'test.v1',
    payload,
    payload_hash: new Uint8Array(createHash('sha256').update(payload).digest()),
    compaction_key: undefined,
    source_topic: options.sourceTopic ?? 'authority',
    source_seq: options.sourceSeq ?? 0n,
    kafka_topic: undefined,
    kafka_partition: undefined,
    kafka_offset: undefined,
    produced_at: Timestamp.now(),
  };
}
