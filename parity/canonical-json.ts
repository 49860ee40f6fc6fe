/**
 * Canonical JSON and the legacy lane's payload hash `khala.payload_hash.v1`
 * (shared/docs/legacy-lane-khala.md §13): object keys sorted by the byte order of their UTF-8
 * encoding, recursively; arrays in order; no whitespace; ordinary JSON escaping; SHA-256 of the UTF-8
 * bytes. Parity recomputes it on both lanes' payloads, since the lanes hash different things
 * (the legacy lane the canonical document, ours the exact bytes).
 */
import { createHash } from 'node:crypto';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const byUtf8 = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Floats are written in JavaScript's shortest form (§13 leaves floats unspecified). */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort(byUtf8);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
}

/** Raw SHA-256 of the canonical JSON. */
export function canonicalDigest(value: JsonValue): Buffer {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest();
}
