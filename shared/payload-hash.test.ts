import { describe, expect, it } from 'vitest';
import { HashAlgorithm } from '../proto/gen/spacetime_sync/v1/envelope_pb.js';
import {
  describePayloadHashFailure,
  hashPayload,
  SHA256_BYTES,
  sha256,
  verifyPayloadHash,
} from './payload-hash.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('sha256', () => {
  it('matches the FIPS 180-2 reference digests', () => {
    expect(hex(sha256(new Uint8Array(0)))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(hex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the view it is given, not the whole underlying buffer', () => {
    const backing = utf8('xxabcxx');
    expect(hex(sha256(backing.subarray(2, 5)))).toBe(hex(sha256(utf8('abc'))));
  });
});

describe('verifyPayloadHash', () => {
  const payload = utf8('{"op":"set"}');

  it('accepts the hash hashPayload produced', () => {
    expect(verifyPayloadHash({ payload, ...hashPayload(payload) })).toEqual({ ok: true });
  });

  it('rejects a payload changed by a single bit, reporting the digest it computed', () => {
    const sealed = hashPayload(payload);
    const tampered = payload.slice();
    tampered[0]! ^= 1;
    const check = verifyPayloadHash({ payload: tampered, ...sealed });
    expect(check).toEqual({ ok: false, ruleId: 'payload_hash.mismatch', computed: sha256(tampered) });
    if (check.ok) throw new Error('unreachable');
    expect(describePayloadHashFailure(check)).toContain(hex(sha256(tampered)));
  });

  it('rejects a hash of the wrong length before comparing', () => {
    const check = verifyPayloadHash({
      payload,
      payloadHash: sha256(payload).subarray(0, 20),
      hashAlgorithm: HashAlgorithm.SHA256,
    });
    expect(check).toEqual({
      ok: false,
      ruleId: 'payload_hash.length',
      expectedBytes: SHA256_BYTES,
      actualBytes: 20,
    });
  });

  it('rejects an unset algorithm even when the digest itself is right', () => {
    const check = verifyPayloadHash({
      payload,
      payloadHash: sha256(payload),
      hashAlgorithm: HashAlgorithm.UNSPECIFIED,
    });
    expect(check).toEqual({ ok: false, ruleId: 'payload_hash.unsupported_algorithm', algorithm: 0 });
    if (check.ok) throw new Error('unreachable');
    expect(describePayloadHashFailure(check)).toMatch(/not supported/);
  });
});
