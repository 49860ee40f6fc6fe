/**
 * The protovalidate rules in the .proto files are enforced at run time: the generated descriptors link
 * to @bufbuild/protovalidate's own buf.validate descriptors, and the validator reads our annotations.
 */
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { pathToString } from '@bufbuild/protobuf/reflect';
import { durationFromMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import { createValidator } from '@bufbuild/protovalidate';
import { describe, expect, it } from 'vitest';
import { SetCutoverStateRequestSchema } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { CheckpointSchema } from '../../proto/gen/spacetime_sync/v1/checkpoint_pb.js';
import {
  type HashAlgorithm,
  KafkaCoordinatesSchema,
  type SyncEnvelope,
  SyncEnvelopeSchema,
} from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { PublishRequestSchema } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { PresenceState, PresenceUpdateSchema } from '../../proto/gen/spacetime_sync/v1/presence_pb.js';
import { NegotiateRequestSchema } from '../../proto/gen/spacetime_sync/v1/protocol_pb.js';
import { hashPayload, sha256 } from '../../shared/payload-hash.js';

const validator = createValidator();

/** "<field path> <rule id>" per violation; [] when valid. Throws if a rule failed to compile. */
function violations<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string[] {
  const result = validator.validate(schema, message);
  if (result.kind === 'error') throw result.error;
  if (result.kind === 'valid') return [];
  return result.violations.map((v) => `${pathToString(v.field)} ${v.ruleId}`).sort();
}

const payload = new TextEncoder().encode('{"op":"set"}');
type EnvelopeOverrides = Partial<
  Pick<
    SyncEnvelope,
    'streamId' | 'idempotencyKey' | 'kind' | 'payloadHash' | 'hashAlgorithm' | 'compactionKey'
  >
>;

function envelope(overrides: EnvelopeOverrides = {}) {
  return create(SyncEnvelopeSchema, {
    streamId: 'workspace/42',
    idempotencyKey: 'evt-1',
    kind: 'runtime.session.updated',
    payload,
    ...hashPayload(payload),
    source: { authorityTopic: 'runtime.sessions', authoritySeq: 1n },
    producedAt: timestampFromMs(0),
    protocolVersion: { major: 1, minor: 0 },
    ...overrides,
  });
}

describe('SyncEnvelope rules', () => {
  it('accepts a complete envelope, with or without Kafka coordinates', () => {
    expect(violations(SyncEnvelopeSchema, envelope())).toEqual([]);
    const fromKafka = envelope();
    fromKafka.source!.kafka = create(KafkaCoordinatesSchema, { topic: 'authority.events', partition: 0 });
    expect(violations(SyncEnvelopeSchema, fromKafka)).toEqual([]);
  });

  it('reports every broken field of an empty envelope at once', () => {
    expect(violations(SyncEnvelopeSchema, create(SyncEnvelopeSchema))).toEqual([
      'hash_algorithm enum.not_in',
      'idempotency_key string.min_len',
      'kind string.min_len',
      'payload_hash bytes.min_len',
      'produced_at required',
      'protocol_version required',
      'source required',
      'stream_id string.min_len',
    ]);
  });

  it('keeps stream ids and idempotency keys within the sync module limit of 256 characters', () => {
    expect(violations(SyncEnvelopeSchema, envelope({ streamId: 'x'.repeat(256) }))).toEqual([]);
    expect(violations(SyncEnvelopeSchema, envelope({ streamId: 'x'.repeat(257) }))).toEqual([
      'stream_id string.max_len',
    ]);
    expect(violations(SyncEnvelopeSchema, envelope({ idempotencyKey: 'k'.repeat(257) }))).toEqual([
      'idempotency_key string.max_len',
    ]);
  });

  it('requires a 32-byte hash for SHA-256', () => {
    expect(
      violations(SyncEnvelopeSchema, envelope({ payloadHash: sha256(payload).subarray(0, 31) })),
    ).toEqual([' sync_envelope.payload_hash_length']);
  });

  it('refuses an unknown hash algorithm number', () => {
    expect(violations(SyncEnvelopeSchema, envelope({ hashAlgorithm: 7 as HashAlgorithm }))).toEqual([
      'hash_algorithm enum.defined_only',
    ]);
  });

  it('refuses authority seq 0, a negative Kafka partition and an empty compaction key', () => {
    const bad = envelope({ compactionKey: '' });
    bad.source!.authoritySeq = 0n;
    bad.source!.kafka = create(KafkaCoordinatesSchema, { topic: 'authority.events', partition: -1 });
    expect(violations(SyncEnvelopeSchema, bad)).toEqual([
      'compaction_key string.min_len',
      'source.authority_seq uint64.gt',
      'source.kafka.partition int32.gte',
    ]);
  });
});

describe('rules on requests and state', () => {
  it('PublishRequest needs 1..500 envelopes and validates each one by index', () => {
    expect(violations(PublishRequestSchema, create(PublishRequestSchema))).toEqual([
      'envelopes repeated.min_items',
    ]);
    const two = create(PublishRequestSchema, { envelopes: [envelope(), envelope({ kind: '' })] });
    expect(violations(PublishRequestSchema, two)).toEqual(['envelopes[1].kind string.min_len']);
    const many = create(PublishRequestSchema, { envelopes: Array.from({ length: 501 }, () => envelope()) });
    expect(violations(PublishRequestSchema, many)).toEqual(['envelopes repeated.max_items']);
  });

  it('PresenceUpdate needs a set state, unique streams and a TTL of at most 10 minutes', () => {
    const ok = create(PresenceUpdateSchema, {
      sessionId: 's1',
      deviceId: 'd1',
      streamIds: ['a', 'b'],
      state: PresenceState.ACTIVE,
      ttl: durationFromMs(600_000),
    });
    expect(violations(PresenceUpdateSchema, ok)).toEqual([]);
    const bad = create(PresenceUpdateSchema, {
      ...ok,
      streamIds: ['a', 'a'],
      state: PresenceState.UNSPECIFIED,
      ttl: durationFromMs(600_001),
    });
    expect(violations(PresenceUpdateSchema, bad)).toEqual([
      'state enum.not_in',
      'stream_ids repeated.unique',
      'ttl duration.gt_lte',
    ]);
    expect(
      violations(PresenceUpdateSchema, create(PresenceUpdateSchema, { ...ok, ttl: durationFromMs(0) })),
    ).toEqual(['ttl duration.gt_lte']);
  });

  it('Checkpoint epochs start at 1', () => {
    const cp = create(CheckpointSchema, { clientId: 'c', streamId: 's', ackedSeq: 0n, epoch: 0n });
    expect(violations(CheckpointSchema, cp)).toEqual(['epoch uint64.gte']);
  });

  it('NegotiateRequest needs at least one version, each with major >= 1', () => {
    expect(violations(NegotiateRequestSchema, create(NegotiateRequestSchema))).toEqual([
      'supported repeated.min_items',
    ]);
    const zero = create(NegotiateRequestSchema, { supported: [{ major: 0, minor: 3 }] });
    expect(violations(NegotiateRequestSchema, zero)).toEqual(['supported[0].major uint32.gte']);
  });

  it('SetCutoverStateRequest needs a lane, a reason and an actor', () => {
    expect(violations(SetCutoverStateRequestSchema, create(SetCutoverStateRequestSchema))).toEqual([
      'actor string.min_len',
      'lane enum.not_in',
      'reason string.min_len',
    ]);
  });
});
