/** Test-only: well-formed SyncEnvelopes (hash computed) as an authority service would publish them. */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { type SyncEnvelope, SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { hashPayload } from '../../shared/payload-hash.js';

export function syncEnvelope(
  stream: string,
  key: string,
  body: string,
  authoritySeq: bigint,
  overrides: Partial<SyncEnvelope> & { authorityTopic?: string } = {},
): SyncEnvelope {
  const { authorityTopic = 'runtime', ...fields } = overrides;
  const payload = new TextEncoder().encode(body);
  const e = create(SyncEnvelopeSchema, {
    streamId: stream,
    idempotencyKey: key,
    kind: 'projection.v1',
    payload,
    ...hashPayload(payload),
    source: { authorityTopic, authoritySeq },
    producedAt: timestampFromMs(Date.now()),
    protocolVersion: { major: 1, minor: 0 },
  });
  return Object.assign(e, fields);
}
