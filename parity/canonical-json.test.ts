import { describe, expect, it } from 'vitest';
import { canonicalDigest, canonicalJson } from './canonical-json.js';

// The worked examples of shared/docs/legacy-lane-khala.md §13 (from the lane's published vectors).
describe('canonical JSON (khala.payload_hash.v1)', () => {
  it('sorted-flat-object', () => {
    expect(canonicalJson({ b: 2, a: 1 })).toBe('{"a":1,"b":2}');
    expect(canonicalDigest({ b: 2, a: 1 }).toString('base64')).toBe(
      'QyWM/3g/5wNtikMDP4MK38YOwDc4JHNUisdCuIgpJ3c=',
    );
  });

  it('bool-null-array keeps array order', () => {
    const v = { tags: ['z', 'a'], active: true, deleted: null, retry_after_ms: 1500 };
    expect(canonicalJson(v)).toBe('{"active":true,"deleted":null,"retry_after_ms":1500,"tags":["z","a"]}');
    expect(canonicalDigest(v).toString('hex')).toBe(
      'b5ef670c5e47639c44a0ed4ba6901df6b0e7f59e41e4102bb26e76fb1f4af946',
    );
  });

  it('sorts keys inside array elements (v2 heartbeat vector)', () => {
    const v = {
      watermarks: [
        { watermark: 44, stream_id: 'runtime.codex.worker.worker_1' },
        { watermark: 13, stream_id: 'runtime.run.run_7' },
      ],
    };
    expect(canonicalDigest(v).toString('hex')).toBe(
      '3ea39781232fcca6ffdb01882c7aa469f7a77f84a6011d8c98f02e3737ea4984',
    );
  });

  it('orders keys by UTF-8 bytes, not UTF-16 units', () => {
    // U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80) in UTF-8; in UTF-16 the surrogate D83D comes first.
    expect(canonicalJson({ '😀': 1, '～': 2 })).toBe('{"～":2,"😀":1}');
  });
});
