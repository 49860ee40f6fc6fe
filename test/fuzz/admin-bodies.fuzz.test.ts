/**
 * Fuzz: every Connect method of the service's control surface — AdminService (status, heads, lag,
 * cutover, routing) and TokenService — against the running service (embedded devhost, cutover on,
 * authenticated as an admin so every body reaches the handler). Bodies shaped like each method's
 * request from its descriptor (right and wrong kinds of values), mutated, arbitrary JSON and bytes,
 * JSON or binary, gzipped or not. Every answer is a 200 whose body decodes as the method's response
 * or a 4xx with a typed ErrorInfo; afterwards the service still answers GetStatus and appends a publish.
 */
import { gzipSync } from 'node:zlib';
import { type DescMessage, type DescMethod, fromJson, toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import { AdminService } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { IngestService } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { TokenService } from '../../proto/gen/spacetime_sync/v1/token_service_pb.js';
import { authedTransport, bearer } from '../support/auth.js';
import { syncEnvelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';
import { expectTypedAnswer } from './connect-answer.js';
import { closeConnections, post } from './connect-post.js';
import { anyBytes, fuzz, fuzzTimeout, mutated } from './fuzz.js';
import { messageJson } from './message-json.js';

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

const METHODS: DescMethod[] = [...AdminService.methods, ...TokenService.methods];
const utf8 = (s: string) => new TextEncoder().encode(s);

/** A body for `input`: shaped JSON (as is or mutated), its binary form (mutated), or anything at all. */
function bodies(input: DescMessage): fc.Arbitrary<{ binary: boolean; body: Uint8Array }> {
  const shaped = messageJson(input).map((o) => utf8(JSON.stringify(o)));
  const asBinary = messageJson(input).map((o) => {
    try {
      return toBinary(input, fromJson(input, o as never, { ignoreUnknownFields: true }));
    } catch {
      return utf8(JSON.stringify(o)); // not a valid message: its JSON as "binary" is garbage enough
    }
  });
  return fc.oneof(
    { weight: 3, arbitrary: shaped.map((body) => ({ binary: false, body })) },
    { weight: 2, arbitrary: mutated(shaped).map((body) => ({ binary: false, body })) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }).map((j) => ({ binary: false, body: utf8(j) })) },
    { weight: 2, arbitrary: mutated(asBinary).map((body) => ({ binary: true, body })) },
    { weight: 1, arbitrary: anyBytes(1024).map((body) => ({ binary: true, body })) },
  );
}

interface Case {
  readonly method: DescMethod;
  readonly binary: boolean;
  readonly gzip: boolean;
  readonly body: Uint8Array;
}

const cases: fc.Arbitrary<Case> = fc
  .constantFrom(...METHODS)
  .chain((method) =>
    fc.tuple(bodies(method.input), fc.boolean()).map(([b, gzip]) => ({ method, ...b, gzip }) satisfies Case),
  );

async function typed(c: Case): Promise<void> {
  const res = await post(
    `${service.httpUrl}/${c.method.parent.typeName}/${c.method.name}`,
    {
      'content-type': c.binary ? 'application/proto' : 'application/json',
      ...(c.gzip ? { 'content-encoding': 'gzip' } : {}),
      ...auth,
    },
    c.gzip ? gzipSync(c.body) : c.body,
  );
  expectTypedAnswer(res, c.method.output, c.binary);
}

describe('fuzz: Connect bodies against every admin and token method of the running service', () => {
  it(
    'every body gets a decodable answer or a typed error; the service still serves',
    async () => {
      await fuzz('connect/admin', cases, typed, { ciRuns: 300, caseTimeoutMs: 30_000, parallel: 4 });
      const status = await createClient(AdminService, authedTransport(service.httpUrl)).getStatus({});
      expect(status).toBeDefined();
      const ok = await createClient(IngestService, authedTransport(service.httpUrl)).publish({
        envelopes: [syncEnvelope('fuzz:after-admin', 'after', 'still here', 1n)],
      });
      expect(ok.results).toHaveLength(1);
    },
    fuzzTimeout(120_000),
  );
});
