/** A checked SyncEnvelope as the module's `EventInput` (module/src/reducers/append.ts). */
import { Timestamp } from 'spacetimedb';
import type { EventInput } from '../../module/bindings/types.js';
import type { SyncEnvelope } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';

export interface KafkaOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** The module's `EventInput` argument type, as the generated bindings declare it. */
export type { EventInput } from '../../module/bindings/types.js';

export function toEventInput(e: SyncEnvelope, origin?: KafkaOrigin): EventInput {
  const kafka = origin ?? e.source?.kafka;
  const produced = e.producedAt
    ? e.producedAt.seconds * 1_000_000n + BigInt(Math.floor(e.producedAt.nanos / 1000))
    : Timestamp.now().microsSinceUnixEpoch;
  return {
    streamId: e.streamId,
    idempotencyKey: e.idempotencyKey,
    kind: e.kind,
    payload: e.payload,
    payloadHash: e.payloadHash,
    compactionKey: e.compactionKey,
    sourceTopic: e.source?.authorityTopic ?? '',
    sourceSeq: e.source?.authoritySeq ?? 0n,
    kafkaTopic: kafka?.topic,
    kafkaPartition: kafka?.partition,
    kafkaOffset: kafka?.offset,
    producedAt: new Timestamp(produced),
  };
}
