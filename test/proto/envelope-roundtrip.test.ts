import { create, equals, fromBinary, fromJson, toBinary, toJson } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { HashAlgorithm, SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { hashPayload } from '../../shared/payload-hash.js';

const payload = new TextEncoder().encode('{"op":"append","text":"ü"}');

function fullEnvelope() {
  return create(SyncEnvelopeSchema, {
    streamId: 'workspace/42',
    idempotencyKey: 'runtime:evt-9',
    kind: 'runtime.session.updated',
    payload,
    ...hashPayload(payload),
    source: {
      authorityTopic: 'runtime.sessions',
      // Above 2^53: must survive as a bigint, in binary and as a JSON string.
      authoritySeq: 2n ** 60n + 7n,
      kafka: { topic: 'authority.events', partition: 3, offset: 12_345_678_901n },
    },
    producedAt: timestampFromMs(1_767_225_600_123),
    compactionKey: 'workspace/42#title',
    protocolVersion: { major: 1, minor: 2 },
  });
}

describe('SyncEnvelope round trip', () => {
  it('survives binary encoding with every field intact', () => {
    const original = fullEnvelope();
    const decoded = fromBinary(SyncEnvelopeSchema, toBinary(SyncEnvelopeSchema, original));
    expect(equals(SyncEnvelopeSchema, decoded, original)).toBe(true);
    expect(decoded.source?.authoritySeq).toBe(2n ** 60n + 7n);
    expect(decoded.source?.kafka?.offset).toBe(12_345_678_901n);
    expect(decoded.payload).toEqual(payload);
  });

  it('survives JSON with 64-bit numbers as strings, bytes as base64 and the enum by name', () => {
    const original = fullEnvelope();
    const json = toJson(SyncEnvelopeSchema, original) as Record<string, unknown>;
    expect(json['hashAlgorithm']).toBe('HASH_ALGORITHM_SHA256');
    expect(json['source']).toMatchObject({ authoritySeq: '1152921504606846983' });
    expect(json['payload']).toBe(Buffer.from(payload).toString('base64'));
    expect(json['producedAt']).toBe('2026-01-01T00:00:00.123Z');
    const back = fromJson(SyncEnvelopeSchema, JSON.parse(JSON.stringify(json)));
    expect(equals(SyncEnvelopeSchema, back, original)).toBe(true);
  });

  it('keeps "no compaction key" apart from an empty one', () => {
    const without = create(SyncEnvelopeSchema, { streamId: 's' });
    const empty = create(SyncEnvelopeSchema, { streamId: 's', compactionKey: '' });
    const decode = (e: typeof without) => fromBinary(SyncEnvelopeSchema, toBinary(SyncEnvelopeSchema, e));
    expect(decode(without).compactionKey).toBeUndefined();
    expect(decode(empty).compactionKey).toBe('');
  });

  it('keeps the absence of Kafka coordinates for envelopes published over Connect', () => {
    const e = create(SyncEnvelopeSchema, { source: { authorityTopic: 't', authoritySeq: 1n } });
    const decoded = fromBinary(SyncEnvelopeSchema, toBinary(SyncEnvelopeSchema, e));
    expect(decoded.source?.kafka).toBeUndefined();
  });

  it('reads an algorithm number it does not know as that number, so a verifier can refuse it', () => {
    // Field 6 (hash_algorithm), varint 7: what a newer producer might send.
    const decoded = fromBinary(SyncEnvelopeSchema, Uint8Array.of(0x30, 0x07));
    expect(decoded.hashAlgorithm).toBe(7);
    expect(decoded.hashAlgorithm).not.toBe(HashAlgorithm.SHA256);
  });
});
