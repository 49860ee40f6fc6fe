/**
 * The Kafka records the Kafka benches produce (soak, the adapter in and as its own process, shards):
 * binary SyncEnvelopes of ~200 B spread over `streams` streams, each stream's authority seq counting
 * up by one, keyed by stream as the service's consumer expects.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { SyncEnvelopeSchema } from '../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { hashPayload } from '../shared/payload-hash.js';

export function envelopeSource(prefix: string, streams: number, authorityTopic: string) {
  const authority = new Map<string, bigint>();
  let n = 0;
  return (count: number) =>
    Array.from({ length: count }, () => {
      n++;
      const stream = `${prefix}:${n % streams}`;
      const seq = (authority.get(stream) ?? 0n) + 1n;
      authority.set(stream, seq);
      const payload = new TextEncoder().encode(`{"n":${n},"v":"${'x'.repeat(200)}"}`);
      const e = create(SyncEnvelopeSchema, {
        streamId: stream,
        idempotencyKey: `k${n}`,
        kind: 'bench.v1',
        payload,
        ...hashPayload(payload),
        source: { authorityTopic, authoritySeq: seq },
        producedAt: timestampFromMs(Date.now()),
        protocolVersion: { major: 1, minor: 0 },
      });
      return { key: stream, value: Buffer.from(toBinary(SyncEnvelopeSchema, e)) };
    });
}
