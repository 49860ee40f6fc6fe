import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, legacyPayloadHash } from './canonical-json.js';

// Worked examples of shared/docs/legacy-lane-khala.md §13.
describe('khala.payload_hash.v1', () => {
  it('sorted-flat-object: keys sorted, digest and wire form as published', () => {
    const payload = { b: 2, a: 1 };
    expect(canonicalJson(payload)).toBe('{"a":1,"b":2}');
    expect(createHash('sha256').update(canonicalJson(payload)).digest('hex')).toBe(
      '43258cff783fe7036d8a43033f830adfc60ec037382473548ac742b888292777',
    );
    expect(legacyPayloadHash(payload)).toBe('QyWM/3g/5wNtikMDP4MK38YOwDc4JHNUisdCuIgpJ3c=');
  });

  it('bool-null-array: arrays keep their order, literals as JSON', () => {
    const payload = { tags: ['z', 'a'], active: true, deleted: null, retry_after_ms: 1500 };
    const canonical = canonicalJson(payload);
    expect(canonical).toBe('{"active":true,"deleted":null,"retry_after_ms":1500,"tags":["z","a"]}');
    expect(Buffer.byteLength(canonical)).toBe(69);
    expect(legacyPayloadHash(payload)).toBe('te9nDF5HY5xEoO1LppAd9rDn9Z5B5BArsm52+x9K+UY=');
  });

  it('keys inside array elements are sorted too (v2 heartbeat vector)', () => {
    const payload = {
      watermarks: [
        { watermark: 44, stream_id: 'runtime.codex.worker.worker_1' },
        { watermark: 13, stream_id: 'runtime.run.run_7' },
      ],
    };
    expect(createHash('sha256').update(canonicalJson(payload)).digest('hex')).toBe(
      '3ea39781232fcca6ffdb01882c7aa469f7a77f84a6011d8c98f02e3737ea4984',
    );
  });

  it('sorts keys by UTF-8 bytes, not UTF-16 units, and leaves non-ASCII and / unescaped', () => {
    // U+1F600 is F0… in UTF-8 (after U+FF5E's EF…) but a D83D surrogate in UTF-16 (before FF5E).
    expect(canonicalJson({ '\u{1F600}': 1, '\uFF5E': 2 })).toBe('{"\uFF5E":2,"\u{1F600}":1}');
    expect(canonicalJson({ path: 'a/b', name: 'é' })).toBe('{"name":"é","path":"a/b"}');
  });
});
