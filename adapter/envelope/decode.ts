/**
 * Bytes → a checked SyncEnvelope: protobuf decoding, the contract's protovalidate rules, and the
 * payload hash recomputed. Every refusal is a typed AdapterError, so the caller can dead-letter it.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { createValidator } from '@bufbuild/protovalidate';
import { type SyncEnvelope, SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { AdapterError } from '../errors.js';
import { describePayloadHashFailure, verifyPayloadHash } from './payload-hash.js';

const validator = createValidator();

export type Decoded =
  | { readonly ok: true; readonly envelope: SyncEnvelope }
  | { readonly ok: false; readonly error: AdapterError };

/** Validates an envelope that is already a message (Connect ingest). */
export function checkEnvelope(envelope: SyncEnvelope): Decoded {
  const result = validator.validate(SyncEnvelopeSchema, envelope);
  if (result.kind === 'invalid') {
    const detail = result.violations.map((v) => v.toString()).join('; ');
    return { ok: false, error: new AdapterError('invalid', detail) };
  }
  if (result.kind === 'error') return { ok: false, error: new AdapterError('invalid', result.error.message) };
  const hash = verifyPayloadHash(envelope);
  if (!hash.ok)
    return { ok: false, error: new AdapterError('hash_mismatch', describePayloadHashFailure(hash)) };
  return { ok: true, envelope };
}

/** Decodes and validates the bytes of one Kafka message value. */
export function decodeEnvelope(bytes: Uint8Array): Decoded {
  let envelope: SyncEnvelope;
  try {
    envelope = fromBinary(SyncEnvelopeSchema, bytes);
  } catch (e) {
    return { ok: false, error: new AdapterError('malformed', `not a SyncEnvelope: ${(e as Error).message}`) };
  }
  return checkEnvelope(envelope);
}
