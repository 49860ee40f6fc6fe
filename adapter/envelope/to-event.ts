/** A checked SyncEnvelope as the module's `EventInput` (module/src/reducers/append.ts). */
import { Timestamp } from 'spacetimedb';
import type { SyncEnvelope } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';

export interface KafkaOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export interface EventInput {
  stream_id: string;
  idempotency_key: string;
  kind: string;
  payload: Uint8Array;
  payload_hash: Uint8Array;
  compaction_key: string | undefined;
  source_topic: string;
  source_seq: bigint;
  kafka_topic: string | undefined;
  kafka_partition: number | undefined;
  kafka_offset: bigint | undefined;
  produced_at: Timestamp;
}

export function toEventInput(e: SyncEnvelope, origin?: KafkaOrigin): EventInput {
  const kafka = origin ?? e.source?.kafka;
  const produced = e.producedAt
    ? e.producedAt.seconds * 1_000_000n + BigInt(Math.floor(e.producedAt.nanos / 1000))
    : Timestamp.now().microsSinceUnixEpoch;
  return {
    stream_id: e.streamId,
    idempotency_key: e.idempotencyKey,
    kind: e.kind,
    payload: e.payload,
    payload_hash: e.payloadHash,
    compaction_key: e.compactionKey,
    source_topic: e.source?.authorityTopic ?? '',
    source_seq: e.source?.authoritySeq ?? 0n,
    kafka_topic: kafka?.topic,
    kafka_partition: kafka?.partition,
    kafka_offset: kafka?.offset,
    produced_at: new Timestamp(produced),
  };
}
