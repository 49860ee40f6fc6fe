/**
 * A valid SyncEnvelope from what a person types: the payload's SHA-256, the producer timestamp and
 * the protocol version are filled in, so publishing needs no reading of the contracts.
 */
import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { SERVER_PROTOCOL } from '../../adapter/protocol.js';
import { type SyncEnvelope, SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { hashPayload } from '../../shared/payload-hash.js';

export interface EnvelopeFields {
  readonly stream: string;
  readonly kind: string;
  readonly payload: Uint8Array;
  /** Default: `<authority topic>:<authority seq>`, so a retried publish of the same event is a duplicate. */
  readonly key?: string;
  readonly compactionKey?: string;
  readonly authorityTopic: string;
  readonly authoritySeq: bigint;
}

export function buildEnvelope(f: EnvelopeFields): SyncEnvelope {
  return create(SyncEnvelopeSchema, {
    streamId: f.stream,
    idempotencyKey: f.key ?? `${f.authorityTopic}:${f.authoritySeq}`,
    kind: f.kind,
    payload: f.payload,
    ...hashPayload(f.payload),
    ...(f.compactionKey !== undefined ? { compactionKey: f.compactionKey } : {}),
    source: { authorityTopic: f.authorityTopic, authoritySeq: f.authoritySeq },
    producedAt: timestampNow(),
    protocolVersion: SERVER_PROTOCOL,
  });
}
