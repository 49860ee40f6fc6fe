/**
 * Fuzz: the envelope decoder and validation (`adapter/envelope/decode.ts`), the one door every Kafka
 * message and every published envelope goes through. Arbitrary bytes, byte-level mutations of valid
 * encoded envelopes, and envelopes built from arbitrary field values: each is a checked envelope or
 * a typed `SyncError` (`invalid` with every broken rule, or `protocol_version_mismatch`) that maps to
 * a Connect error and a Kafka disposition — never an exception.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEnvelope, type Decoded, decodeEnvelope } from '../../adapter/envelope/decode.js';
import { toConnectError } from '../../adapter/errors/to-connect.js';
import { kafkaDisposition } from '../../adapter/kafka/disposition.js';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { isSyncError } from '../../shared/errors/sync-error.js';
import { hashPayload } from '../../shared/payload-hash.js';
import { anyBytes, fuzz, fuzzTimeout, mutated } from './fuzz.js';

const text = fc.oneof(
  fc.constantFrom('orders:1', 'a', '', 'x'.repeat(300), 'runtime', 'projection.v1', ':', '\u0000', '\uFFFD'),
  fc.string({ maxLength: 40, unit: 'grapheme' }),
  fc.string({ maxLength: 300 }),
);
const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));

/** Envelopes from arbitrary field values; most are valid, many break one rule or another. */
const envelopes = fc
  .record({
    streamId: text,
    idempotencyKey: text,
    kind: text,
    payload: fc.uint8Array({ maxLength: 256 }),
    authorityTopic: text,
    authoritySeq: u64,
    producedAtMs: fc.integer({ min: -1e13, max: 1e13 }),
    major: fc.oneof(fc.constant(1), fc.nat({ max: 5 })),
    minor: fc.nat({ max: 9 }),
    hash: fc.oneof(
      fc.constant('computed' as const),
      fc.constant('wrong' as const),
      fc.constant('absent' as const),
    ),
  })
  .map((f) => {
    const hashed = hashPayload(f.payload);
    return create(SyncEnvelopeSchema, {
      streamId: f.streamId,
      idempotencyKey: f.idempotencyKey,
      kind: f.kind,
      payload: f.payload,
      ...(f.hash === 'computed'
        ? hashed
        : f.hash === 'wrong'
          ? { ...hashed, payloadHash: new Uint8Array(hashed.payloadHash.length) }
          : {}),
      source: { authorityTopic: f.authorityTopic, authoritySeq: f.authoritySeq },
      producedAt: timestampFromMs(f.producedAtMs),
      protocolVersion: { major: f.major, minor: f.minor },
    });
  });

/** The decoder's contract: a checked envelope, or a typed refusal that maps at every boundary. */
function typed(d: Decoded): void {
  if (d.ok) {
    expect(d.envelope.streamId.length).toBeGreaterThan(0);
    return;
  }
  expect(isSyncError(d.error)).toBe(true);
  expect(['invalid', 'protocol_version_mismatch']).toContain(d.error.reason);
  expect(d.error.detail).toBeDefined();
  expect(toConnectError(d.error).code).toBe(d.error.code);
  expect(kafkaDisposition(d.error)).toBe('dead_letter');
}

describe('fuzz: envelope decoder and validation', () => {
  it(
    'arbitrary bytes',
    async () => {
      await fuzz('envelope/bytes', anyBytes(), (b) => typed(decodeEnvelope(b)), { ciRuns: 500 });
    },
    fuzzTimeout(),
  );

  it(
    'mutations of valid encoded envelopes',
    async () => {
      await fuzz(
        'envelope/mutated',
        mutated(envelopes.map((e) => toBinary(SyncEnvelopeSchema, e))),
        (b) => typed(decodeEnvelope(b)),
        { ciRuns: 500 },
      );
    },
    fuzzTimeout(),
  );

  it(
    'envelopes of arbitrary field values (validation alone)',
    async () => {
      await fuzz('envelope/fields', envelopes, (e) => typed(checkEnvelope(e)), { ciRuns: 300 });
    },
    fuzzTimeout(),
  );
});
