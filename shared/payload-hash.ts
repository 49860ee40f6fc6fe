/**
 * The payload hash of a SyncEnvelope: SHA-256 over the exact payload bytes, with no canonicalisation,
 * so any implementation can reproduce it (proto/testdata/payload-hash-vectors.json pins the bytes).
 * The sync module compares these hashes to tell a duplicate from a conflict, so a receiver checks the
 * hash against the payload before it appends anything.
 */
import { createHash } from 'node:crypto';
import { HashAlgorithm } from '../proto/gen/spacetime_sync/v1/envelope_pb.js';

/** Length of a SHA-256 digest. */
export const SHA256_BYTES = 32;

/** SHA-256 of the payload bytes exactly as given. */
export function sha256(payload: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(payload).digest());
}

/** The hash fields a producer sets on an envelope for this payload. */
export function hashPayload(payload: Uint8Array): { payloadHash: Uint8Array; hashAlgorithm: HashAlgorithm } {
  return { payloadHash: sha256(payload), hashAlgorithm: HashAlgorithm.SHA256 };
}

/** Why an envelope's hash was refused. Each is reported as this rule id on the payload_hash field. */
export type PayloadHashFailure =
  | { readonly ruleId: 'payload_hash.unsupported_algorithm'; readonly algorithm: number }
  | { readonly ruleId: 'payload_hash.length'; readonly expectedBytes: number; readonly actualBytes: number }
  | { readonly ruleId: 'payload_hash.mismatch'; readonly computed: Uint8Array };

export type PayloadHashCheck = { readonly ok: true } | ({ readonly ok: false } & PayloadHashFailure);

/** The envelope fields the check reads (a SyncEnvelope fits). */
export interface HashedPayload {
  readonly payload: Uint8Array;
  readonly payloadHash: Uint8Array;
  readonly hashAlgorithm: HashAlgorithm;
}

/** Recomputes the hash by the envelope's algorithm and compares it with the one it carries. */
export function verifyPayloadHash(envelope: HashedPayload): PayloadHashCheck {
  if (envelope.hashAlgorithm !== HashAlgorithm.SHA256) {
    return { ok: false, ruleId: 'payload_hash.unsupported_algorithm', algorithm: envelope.hashAlgorithm };
  }
  if (envelope.payloadHash.length !== SHA256_BYTES) {
    return {
      ok: false,
      ruleId: 'payload_hash.length',
      expectedBytes: SHA256_BYTES,
      actualBytes: envelope.payloadHash.length,
    };
  }
  const computed = sha256(envelope.payload);
  return bytesEqual(computed, envelope.payloadHash)
    ? { ok: true }
    : { ok: false, ruleId: 'payload_hash.mismatch', computed };
}

/** A human-readable sentence for a failed check, for FieldViolation.description and logs. */
export function describePayloadHashFailure(failure: PayloadHashFailure): string {
  switch (failure.ruleId) {
    case 'payload_hash.unsupported_algorithm':
      return `hash algorithm ${failure.algorithm} is not supported (only SHA-256)`;
    case 'payload_hash.length':
      return `payload_hash is ${failure.actualBytes} bytes, SHA-256 gives ${failure.expectedBytes}`;
    case 'payload_hash.mismatch':
      return `payload_hash does not match the payload (its SHA-256 is ${Buffer.from(failure.computed).toString('hex')})`;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
