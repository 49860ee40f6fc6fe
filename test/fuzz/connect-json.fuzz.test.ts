/**
 * Fuzz: Connect request bodies against the running service (embedded devhost, authenticated as an
 * admin, so every body reaches decoding). JSON built from valid PublishRequests and mutated byte by
 * byte, arbitrary JSON values, arbitrary bytes, binary bodies mutated, some gzipped, to Publish and
 * Negotiate. Every answer is a 200 with a response that decodes, or a Connect error carrying an
 * ErrorInfo with a contract reason — never a 500, a dropped connection or a hang; afterwards the
 * service still appends a valid publish.
 */
import { gzipSync } from 'node:zlib';
import { create, toBinary, toJsonString } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import {
  IngestService,
  PublishRequestSchema,
  PublishResponseSchema,
} from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import {
  NegotiateResponseSchema,
  ProtocolVersionSchema,
} from '../../proto/gen/spacetime_sync/v1/protocol_pb.js';
import { hashPayload } from '../../shared/payload-hash.js';
import { authedTransport, bearer } from '../support/auth.js';
import { syncEnvelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';
import { expectTypedAnswer } from './connect-answer.js';
import { closeConnections, post } from './connect-post.js';
import { anyBytes, fuzz, fuzzTimeout, mutated } from './fuzz.js';

let service: RunningService;
let auth: { authorization: string };

beforeAll(async () => {
  service = await startTestService({ probeIntervalMs: 0 });
  auth = await bearer({ ttlS: 24 * 3600 });
}, 120_000);

afterAll(async () => {
  closeConnections();
  await service?.stop();
});

const PATH = '/spacetime_sync.v1.IngestService/';
type Method = 'Publish' | 'Negotiate';

/** Requests over a few streams (a long run must not fill the database with new ones). */
const publishRequests = fc
  .array(
    fc.record({
      stream: fc.constantFrom('fuzz:1', 'fuzz:2', 'other:1', ''),
      key: fc.string({ maxLength: 12 }),
      payload: fc.uint8Array({ maxLength: 64 }),
      seq: fc.bigInt({ min: 0n, max: 2000n }),
      kind: fc.constantFrom('projection.v1', '', 'x'),
      major: fc.constantFrom(1, 1, 1, 2, 0),
      producedAtMs: fc.integer({ min: 0, max: 4e12 }),
    }),
    { maxLength: 4 },
  )
  .map((items) =>
    create(PublishRequestSchema, {
      envelopes: items.map((i) =>
        Object.assign(syncEnvelope(i.stream, i.key, '', i.seq), {
          kind: i.kind,
          payload: i.payload,
          ...hashPayload(i.payload),
          producedAt: timestampFromMs(i.producedAtMs),
          protocolVersion: create(ProtocolVersionSchema, { major: i.major, minor: 0 }),
        }),
      ),
    }),
  );

const utf8 = (s: string) => new TextEncoder().encode(s);

const jsonBodies: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: mutated(publishRequests.map((r) => utf8(toJsonString(PublishRequestSchema, r)))) },
  { weight: 1, arbitrary: publishRequests.map((r) => utf8(toJsonString(PublishRequestSchema, r))) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 6 }).map(utf8) },
  { weight: 1, arbitrary: anyBytes(2048) },
);
const binaryBodies: fc.Arbitrary<Uint8Array> = fc.oneof(
  mutated(publishRequests.map((r) => toBinary(PublishRequestSchema, r))),
  anyBytes(2048),
);

interface Case {
  readonly method: Method;
  readonly binary: boolean;
  readonly gzip: boolean;
  readonly body: Uint8Array;
}

const cases: fc.Arbitrary<Case> = fc
  .record({
    method: fc.constantFrom<Method>('Publish', 'Publish', 'Publish', 'Negotiate'),
    binary: fc.boolean(),
    gzip: fc.boolean(),
    json: jsonBodies,
    proto: binaryBodies,
  })
  .map(({ method, binary, gzip, json, proto }) => ({ method, binary, gzip, body: binary ? proto : json }));

async function typed(c: Case): Promise<void> {
  const res = await post(
    `${service.httpUrl}${PATH}${c.method}`,
    {
      'content-type': c.binary ? 'application/proto' : 'application/json',
      ...(c.gzip ? { 'content-encoding': 'gzip' } : {}),
      ...auth,
    },
    c.gzip ? gzipSync(c.body) : c.body,
  );
  expectTypedAnswer(res, c.method === 'Publish' ? PublishResponseSchema : NegotiateResponseSchema, c.binary);
}

describe('fuzz: Connect bodies against the running ingest handler', () => {
  it(
    'every body gets a decodable answer or a typed error; the service still serves',
    async () => {
      await fuzz('connect/bodies', cases, typed, { ciRuns: 300, caseTimeoutMs: 30_000, parallel: 4 });
      const ok = await createClient(IngestService, authedTransport(service.httpUrl)).publish({
        envelopes: [syncEnvelope('fuzz:after', 'after', 'still here', 1n)],
      });
      expect(ok.results).toHaveLength(1);
      expect((await fetch(`${service.httpUrl}/healthz`)).status).toBe(200);
    },
    fuzzTimeout(120_000),
  );
});
