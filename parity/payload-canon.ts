/**
 * What "the same payload" means across the lanes. Each side's payload is reduced to one comparable
 * form — canonical JSON (canonical-json.ts) of the payload with its volatile fields dropped — and its
 * SHA-256 hex. The rule for volatile fields: a top-level key of a payload object whose name is in
 * the volatile set (default `projected_at`, the wall-clock projection time the legacy lane puts inside
 * its hashed summary documents) is removed; nothing nested is touched and no other field is ignored.
 * Separately, each lane's own hash is checked against its own payload (legacy: base64 of the canonical
 * digest of the whole document; ours: SHA-256 of the exact bytes).
 */
import { createHash } from 'node:crypto';
import { canonicalDigest, canonicalJson, type JsonValue } from './canonical-json.js';

export const DEFAULT_VOLATILE_FIELDS: readonly string[] = ['projected_at'];

export type Canon =
  | { readonly ok: true; readonly hash: string; readonly canonical: string }
  /** not_json: our bytes are not UTF-8 JSON; pointer_mode: the legacy update carries no payload. */
  | { readonly ok: false; readonly reason: 'not_json' | 'pointer_mode' };

function canon(value: JsonValue, volatile: ReadonlySet<string>): Canon {
  let v = value;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const kept: { [key: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v)) if (!volatile.has(k)) kept[k] = x;
    v = kept;
  }
  const canonical = canonicalJson(v);
  return { ok: true, canonical, hash: createHash('sha256').update(canonical, 'utf8').digest('hex') };
}

export function canonLegacy(payload: JsonValue | null, volatile: ReadonlySet<string>): Canon {
  return payload === null ? { ok: false, reason: 'pointer_mode' } : canon(payload, volatile);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function canonCandidate(bytes: Uint8Array, volatile: ReadonlySet<string>): Canon {
  let value: JsonValue;
  try {
    value = JSON.parse(utf8.decode(bytes)) as JsonValue;
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  return canon(value, volatile);
}

/** The legacy update's `payload_hash` (base64 raw digest) matches its payload; null hash = not sent. */
export function legacyHashHolds(payload: JsonValue | null, payloadHash: string | null): boolean {
  if (payload === null || payloadHash === null) return payload === null && payloadHash === null;
  return canonicalDigest(payload).toString('base64') === payloadHash;
}

/** Our event's `payload_hash` is SHA-256 of its exact payload bytes. */
export function candidateHashHolds(payload: Uint8Array, payloadHash: Uint8Array): boolean {
  return Buffer.from(createHash('sha256').update(payload).digest()).equals(Buffer.from(payloadHash));
}
