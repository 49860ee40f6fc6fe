/**
 * Foundation check through the real broker: the canonical SyncEnvelope encodings of
 * proto/testdata survive produce → consume byte for byte, decode to the same message, and their
 * payload hashes verify — the contract every producer and the adapter share.
 */
import { readFileSync } from 'node:fs';
import { fromBinary, fromJson, type JsonValue, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { sha256, verifyPayloadHash } from '../../shared/payload-hash.js';
import { createTopics, testKafka, uniqueTopic } from '../support/kafka-env.js';

interface Vectors {
  payloads: { name: string; payload_hex: string; sha256_hex: string }[];
  envelopes: { name: string; envelope: JsonValue; envelope_hex: string }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../proto/testdata/payload-hash-vectors.json', import.meta.url), 'utf8'),
) as Vectors;

const kafka = testKafka();
const topic = uniqueTopic('envelopes');
const received = new Map<string, Buffer>();

beforeAll(async () => {
  await createTopics({ topic, numPartitions: 2 });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: [
      ...vectors.envelopes.map((v) => ({ key: v.name, value: Buffer.from(v.envelope_hex, 'hex') })),
      ...vectors.payloads.map((p) => ({
        key: `payload:${p.name}`,
        value: Buffer.from(p.payload_hex, 'hex'),
      })),
    ],
  });
  await producer.disconnect();
  const consumer = kafka.consumer({
    groupId: uniqueTopic('roundtrip'),
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const expected = vectors.envelopes.length + vectors.payloads.length;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        received.set(String(message.key), message.value ?? Buffer.alloc(0));
        if (received.size === expected) resolve();
      },
    });
  });
  await consumer.disconnect();
}, 90_000);

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
});

describe('SyncEnvelope through the broker', () => {
  it.each(vectors.envelopes)(
    '$name arrives byte-identical, decodes to the vector and its hash verifies',
    (v) => {
      const bytes = received.get(v.name);
      expect(bytes?.toString('hex')).toBe(v.envelope_hex);
      const decoded = fromBinary(SyncEnvelopeSchema, new Uint8Array(bytes as Buffer));
      expect(decoded).toEqual(fromJson(SyncEnvelopeSchema, v.envelope));
      expect(Buffer.from(toBinary(SyncEnvelopeSchema, decoded)).toString('hex')).toBe(v.envelope_hex);
      expect(verifyPayloadHash(decoded)).toEqual({ ok: true });
    },
  );

  it.each(vectors.payloads)('payload $name keeps its SHA-256 after the trip', (p) => {
    const bytes = received.get(`payload:${p.name}`) as Buffer;
    expect(Buffer.from(sha256(new Uint8Array(bytes))).toString('hex')).toBe(p.sha256_hex);
  });
});
