/**
 * The published vectors must keep agreeing with our hash and encoder: everything here is recomputed from
 * proto/testdata/payload-hash-vectors.json, never regenerated, so a changed hash or encoding fails.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary, fromJson, type JsonValue, toBinary, toJson } from '@bufbuild/protobuf';
import { afterAll, describe, expect, it } from 'vitest';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { REPO_ROOT, runBuf } from '../../scripts/proto-buf.js';
import { sha256, verifyPayloadHash } from '../../shared/payload-hash.js';

interface PayloadVector {
  name: string;
  payload_hex: string;
  sha256_hex: string;
}
interface EnvelopeVector {
  name: string;
  envelope: JsonValue;
  envelope_hex: string;
}
const vectors = JSON.parse(
  readFileSync(join(REPO_ROOT, 'proto/testdata/payload-hash-vectors.json'), 'utf8'),
) as {
  payloads: PayloadVector[];
  envelopes: EnvelopeVector[];
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const payload = (name: string) => unhex(vectors.payloads.find((v) => v.name === name)!.payload_hex);

describe('payload hash vectors', () => {
  it('cover the agreed cases', () => {
    expect(vectors.payloads.map((v) => v.name)).toEqual([
      'empty',
      'ascii',
      'utf8-multibyte',
      'binary-with-zeros',
      'pattern-64kib',
    ]);
    expect(payload('empty')).toHaveLength(0);
    // Valid UTF-8 (fatal decoding throws otherwise) with bytes above 0x7f, i.e. multibyte sequences.
    new TextDecoder('utf-8', { fatal: true }).decode(payload('utf8-multibyte'));
    expect(payload('utf8-multibyte').some((b) => b > 0x7f)).toBe(true);
    expect(payload('binary-with-zeros')).toContain(0);
    const big = payload('pattern-64kib');
    expect(big).toHaveLength(65536);
    expect(big.every((b, i) => b === i % 251)).toBe(true);
  });

  it('pin the standard SHA-256 of the empty payload', () => {
    const empty = vectors.payloads.find((v) => v.name === 'empty')!;
    expect(empty.sha256_hex).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it.each(vectors.payloads)('$name: SHA-256 of the payload bytes is the recorded digest', (v) => {
    expect(hex(sha256(unhex(v.payload_hex)))).toBe(v.sha256_hex);
  });
});

describe('SyncEnvelope encoding vectors', () => {
  it('include an envelope from Kafka and one with an empty payload', () => {
    const names = vectors.envelopes.map((v) => v.name);
    expect(names).toContain('kafka-with-compaction-key');
    expect(names).toContain('empty-payload');
  });

  it.each(vectors.envelopes)('$name: the JSON form encodes to exactly the recorded bytes', (v) => {
    const envelope = fromJson(SyncEnvelopeSchema, v.envelope);
    expect(hex(toBinary(SyncEnvelopeSchema, envelope))).toBe(v.envelope_hex);
  });

  it.each(vectors.envelopes)('$name: the recorded bytes decode to the recorded JSON form', (v) => {
    expect(toJson(SyncEnvelopeSchema, fromBinary(SyncEnvelopeSchema, unhex(v.envelope_hex)))).toEqual(
      v.envelope,
    );
  });

  it.each(vectors.envelopes)('$name: carries a payload hash that verifies', (v) => {
    expect(verifyPayloadHash(fromBinary(SyncEnvelopeSchema, unhex(v.envelope_hex)))).toEqual({ ok: true });
  });

  describe('against buf convert (an independent protobuf implementation)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proto-vectors-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each(vectors.envelopes)('$name: buf decodes the bytes to the same JSON and re-encodes them', (v) => {
      const bin = join(dir, `${v.name}.binpb`);
      const json = join(dir, `${v.name}.json`);
      writeFileSync(bin, unhex(v.envelope_hex));
      writeFileSync(json, JSON.stringify(v.envelope));
      const type = ['--type', 'spacetime_sync.v1.SyncEnvelope'];

      const decoded = runBuf(['convert', ...type, '--from', bin, '--to', '-#format=json']);
      expect(decoded.stderr).toBe('');
      expect(JSON.parse(decoded.stdout)).toEqual(v.envelope);

      const reencoded = join(dir, `${v.name}.out.binpb`);
      const encoded = runBuf(['convert', ...type, '--from', json, '--to', reencoded]);
      expect(encoded.stderr).toBe('');
      expect(hex(readFileSync(reencoded))).toBe(v.envelope_hex);
    });
  });
});
