/**
 * The legacy lane's payload hash, `khala.payload_hash.v1` (fact sheet §13): SHA-256 over the UTF-8
 * bytes of canonical JSON — object keys sorted by the byte order of their UTF-8 encoding, recursively,
 * arrays in order, no whitespace, ordinary JSON escaping. On the wire the digest travels as base64 of
 * the raw 32 bytes. (Ours hashes the exact payload bytes instead; a parity comparison recomputes this
 * one from the delivered object.)
 */
import { createHash } from 'node:crypto';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Canonical JSON of a JSON value. Floats follow JavaScript's shortest form (`1.0` becomes `1`), which
 * the Elixir original did not; the published vectors hold no floats, so §13 leaves them unspecified.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort(compareUtf8);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
}

/** The raw 32-byte digest. */
export function legacyPayloadDigest(value: JsonValue): Buffer {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest();
}

/** The digest as the lane sends it in `Update.payload_hash`: base64 of the raw bytes (44 chars). */
export function legacyPayloadHash(value: JsonValue): string {
  return legacyPayloadDigest(value).toString('base64');
}
