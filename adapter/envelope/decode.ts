/**
 * Bytes → a checked SyncEnvelope: protobuf decoding, the contract's protovalidate rules, the payload
 * hash recomputed, and the protocol major. Every refusal is a typed SyncError (`invalid` with every
 * broken rule, or `protocol_version_mismatch`), so the caller can dead-letter or answer it.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { type SyncEnvelope, SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import type { SyncError } from '../../shared/errors/sync-error.js';
import { describePayloadHashFailure, verifyPayloadHash } from '../../shared/payload-hash.js';
import { contractViolations, invalid, type Violation } from '../errors/invalid.js';
import { checkEnvelopeProtocol } from '../protocol.js';

export type Decoded =
  | { readonly ok: true; readonly envelope: SyncEnvelope }
  | { readonly ok: false; readonly error: SyncError };

/**
 * The payload-hash rule as a violation at `prefix` + `payload_hash`, unless the hash fields already
 * broke a contract rule (then the recomputation has nothing sound to compare).
 */
export function hashViolation(
  envelope: SyncEnvelope,
  prefix: string,
  already: readonly Violation[],
): Violation[] {
  const hashFields = [`${prefix}payload_hash`, `${prefix}hash_algorithm`];
  if (already.some((v) => hashFields.includes(v.field) || v.ruleId === 'sync_envelope.payload_hash_length'))
    return [];
  const hash = verifyPayloadHash(envelope);
  if (hash.ok) return [];
  return [
    { field: `${prefix}payload_hash`, ruleId: hash.ruleId, description: describePayloadHashFailure(hash) },
  ];
}

/** Validates an envelope that is already a message. */
export function checkEnvelope(envelope: SyncEnvelope): Decoded {
  const violations = contractViolations(SyncEnvelopeSchema, envelope);
  violations.push(...hashViolation(envelope, '', violations));
  if (violations.length > 0) return { ok: false, error: invalid(violations) };
  const mismatch = checkEnvelopeProtocol(envelope.protocolVersion);
  return mismatch ? { ok: false, error: mismatch } : { ok: true, envelope };
}

/** Decodes and validates the bytes of one Kafka message value. */
export function decodeEnvelope(bytes: Uint8Array): Decoded {
  let envelope: SyncEnvelope;
  try {
    envelope = fromBinary(SyncEnvelopeSchema, bytes);
  } catch (e) {
    const description = `not a SyncEnvelope: ${(e as Error).message}`;
    return { ok: false, error: invalid([{ field: '', ruleId: 'envelope.decode', description }], e) };
  }
  return checkEnvelope(envelope);
}
