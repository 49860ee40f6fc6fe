/**
 * Writes proto/testdata/payload-hash-vectors.json: payload → SHA-256 pairs and canonical SyncEnvelope
 * encodings (JSON and binary), so an implementation in any language can check its bytes against ours.
 * Run after an intentional contract change: `node --import tsx scripts/proto-vectors.ts`.
 * test/proto/vectors.test.ts recomputes everything from the file and fails if our code disagrees.
 */
import { writeFileSync } from 'node:fs';
import { create, type MessageInitShape, toBinary, toJson } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { type SyncEnvelope, SyncEnvelopeSchema } from '../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { ProtocolVersionSchema } from '../proto/gen/spacetime_sync/v1/protocol_pb.js';
import { hashPayload, sha256 } from '../shared/payload-hash.js';

const OUT = new URL('../proto/testdata/payload-hash-vectors.json', import.meta.url);
const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** 64 KiB where byte i is i mod 251: a prime period, so no run lines up with SHA-256's 64-byte blocks. */
function pattern64k(): Uint8Array {
  const bytes = new Uint8Array(64 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
  return bytes;
}

const payloads: ReadonlyArray<{ name: string; payload: Uint8Array }> = [
  { name: 'empty', payload: new Uint8Array(0) },
  { name: 'ascii', payload: utf8('{"op":"set","path":"title","value":"hello"}') },
  { name: 'utf8-multibyte', payload: utf8('héllo wörld — 日本語 — 🚀') },
  { name: 'binary-with-zeros', payload: Uint8Array.of(0, 0, 0xff, 0, 1, 0, 0x80, 0, 0, 0x7f, 0) },
  { name: 'pattern-64kib', payload: pattern64k() },
];

const v1_0 = create(ProtocolVersionSchema, { major: 1, minor: 0 });

function envelope(init: MessageInitShape<typeof SyncEnvelopeSchema> & { payload: Uint8Array }): SyncEnvelope {
  return create(SyncEnvelopeSchema, { ...init, ...hashPayload(init.payload), protocolVersion: v1_0 });
}

const envelopes: ReadonlyArray<{ name: string; envelope: SyncEnvelope }> = [
  {
    name: 'connect-minimal',
    envelope: envelope({
      streamId: 'workspace/42',
      idempotencyKey: 'runtime:evt-0001',
      kind: 'runtime.session.updated',
      payload: utf8('{"op":"set","path":"title","value":"hello"}'),
      source: { authorityTopic: 'runtime.sessions', authoritySeq: 1n },
      producedAt: timestampFromMs(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
    }),
  },
  {
    name: 'kafka-with-compaction-key',
    envelope: envelope({
      streamId: 'doc/ä-1',
      idempotencyKey: 'control:7f3a',
      kind: 'control.document.renamed',
      payload: utf8('héllo wörld — 日本語 — 🚀'),
      source: {
        authorityTopic: 'control.documents',
        authoritySeq: 9_007_199_254_740_993n,
        kafka: { topic: 'authority.events', partition: 11, offset: 4_294_967_296n },
      },
      producedAt: { seconds: 1_767_225_600n, nanos: 123_456_789 },
      compactionKey: 'doc/ä-1#title',
    }),
  },
  {
    name: 'empty-payload',
    envelope: envelope({
      streamId: 's',
      idempotencyKey: 'k',
      kind: 'marker',
      payload: new Uint8Array(0),
      source: { authorityTopic: 't', authoritySeq: 18_446_744_073_709_551_615n },
      producedAt: { seconds: 0n, nanos: 0 },
    }),
  },
  {
    name: 'binary-payload',
    envelope: envelope({
      streamId: 'blob/1',
      idempotencyKey: 'blob:1',
      kind: 'blob.chunk',
      payload: Uint8Array.of(0, 0, 0xff, 0, 1, 0, 0x80, 0, 0, 0x7f, 0),
      source: {
        authorityTopic: 'blobs',
        authoritySeq: 300n,
        kafka: { topic: 'authority.events', partition: 0, offset: 0n },
      },
      producedAt: { seconds: -1n, nanos: 999_999_999 },
    }),
  },
];

const vectors = {
  description:
    'SyncEnvelope payload hash: SHA-256 over the exact payload bytes. "payloads" pairs payload bytes with their ' +
    'digest; "envelopes" pins the canonical encodings of spacetime_sync.v1.SyncEnvelope: "envelope" is the ' +
    'proto3 JSON form (protobuf-es toJson defaults), "envelope_hex" the binary encoding with fields in number order.',
  payloads: payloads.map(({ name, payload }) => ({
    name,
    payload_hex: hex(payload),
    sha256_hex: hex(sha256(payload)),
  })),
  envelopes: envelopes.map(({ name, envelope }) => ({
    name,
    envelope: toJson(SyncEnvelopeSchema, envelope),
    envelope_hex: hex(toBinary(SyncEnvelopeSchema, envelope)),
  })),
};

writeFileSync(OUT, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${payloads.length} payload and ${envelopes.length} envelope vectors to ${OUT.pathname}`);
