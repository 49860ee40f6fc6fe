/**
 * The ingest API's bounds, each a reproduction from the security audit (findings 5, 10, 15): a gzip
 * bomb and an oversized body, more envelopes than the contract allows, a JSON body nested millions
 * deep, invalid UTF-8, a full ingest queue, and refused input poisoning the lag gauge. Each gets a
 * typed 4xx (ErrorInfo + detail), nothing is appended, and the service keeps answering.
 */
import { gzipSync } from 'node:zlib';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { errorFromJsonBytes } from '@connectrpc/connect/protocol-connect';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestService } from '../../adapter/ingest/ingest-service.js';
import { createAdapterMetrics } from '../../adapter/metrics.js';
import type { RunningService } from '../../adapter/service.js';
import {
  ErrorInfoSchema,
  ErrorReason,
  InvalidDetailSchema,
  ResourceExhaustedDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { IngestService, PublishRequestSchema } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { authedTransport, bearer } from '../support/auth.js';
import { embeddedStoredEvents } from '../support/devhost-harness.js';
import { syncEnvelope as envelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';

/** Above one envelope's largest payload (1 MiB), so the per-envelope cap is reached before this one. */
const MAX_BODY = 4 * 1024 * 1024;
let service: RunningService;

beforeAll(async () => {
  service = await startTestService({
    probeIntervalMs: 0,
    ingestLimits: { maxBodyBytes: MAX_BODY, maxQueued: 64, jsonMaxDepth: 32 },
  });
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

const PUBLISH = '/spacetime_sync.v1.IngestService/Publish';
const client = () => createClient(IngestService, authedTransport(service.httpUrl));

async function post(headers: Record<string, string>, body: Uint8Array | string) {
  const res = await fetch(`${service.httpUrl}${PUBLISH}`, {
    method: 'POST',
    headers: { ...headers, ...(await bearer()) },
    body,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return {
    status: res.status,
    error: errorFromJsonBytes(bytes, undefined, new ConnectError('no error body')),
  };
}

function violation(e: ConnectError) {
  expect(e.findDetails(ErrorInfoSchema)).toEqual([expect.objectContaining({ reason: ErrorReason.INVALID })]);
  const [d] = e.findDetails(InvalidDetailSchema);
  return d?.fieldViolations[0];
}

const stored = async (stream: string) =>
  (await embeddedStoredEvents(service.devhost, service.database)).get(stream)?.map((e) => e.key);
const stillServes = async () => expect((await fetch(`${service.httpUrl}/healthz`)).status).toBe(200);

describe('ingest bounds', () => {
  it('a gzip bomb (small on the wire, huge inflated) is refused at the limit with 400 request.max_bytes', async () => {
    const inflated = Buffer.alloc(64 * 1024 * 1024, 0x20);
    const bomb = gzipSync(inflated);
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const { status, error } = await post(
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      bomb,
    );
    expect(status).toBe(400);
    expect(violation(error)).toMatchObject({ ruleId: 'request.max_bytes' });
    await stillServes();
  });

  it('a gzipped binary body is judged by its inflated bytes, whatever length it was sent with (found by fuzzing)', async () => {
    const empty = await post(
      { 'content-type': 'application/proto', 'content-encoding': 'gzip' },
      gzipSync(new Uint8Array(0)),
    );
    expect(empty.status).toBe(400);
    expect(violation(empty.error)).toMatchObject({ field: 'envelopes', ruleId: 'repeated.min_items' });
    const request = create(PublishRequestSchema, {
      envelopes: [envelope('gz:1', 'g1', 'x'.repeat(500), 1n)],
    });
    const res = await fetch(`${service.httpUrl}${PUBLISH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip', ...(await bearer()) },
      body: gzipSync(toBinary(PublishRequestSchema, request)),
    });
    expect(res.status).toBe(200);
    expect(await stored('gz:1')).toEqual(['g1']);
  });

  it('a body over the limit as sent is refused with 400 request.max_bytes', async () => {
    const big = JSON.stringify({ envelopes: [], pad: 'x'.repeat(MAX_BODY) });
    const { status, error } = await post({ 'content-type': 'application/json' }, big);
    expect(status).toBe(400);
    expect(violation(error)).toMatchObject({ ruleId: 'request.max_bytes' });
  });

  it('more envelopes than the contract allows (500) are refused, none appended', async () => {
    const envelopes = Array.from({ length: 501 }, (_, i) => envelope('items:1', `k${i}`, '', BigInt(i + 1)));
    const e = await client()
      .publish({ envelopes })
      .then(
        () => undefined,
        (err: unknown) => ConnectError.from(err),
      );
    expect(e?.code).toBe(Code.InvalidArgument);
    expect(violation(e as ConnectError)).toMatchObject({ field: 'envelopes', ruleId: 'repeated.max_items' });
    expect(await stored('items:1')).toBeUndefined();
  });

  it('an envelope payload over 1 MiB is refused by the contract (bytes.max_len), none of its batch appended', async () => {
    const ok = envelope('big:1', 'small', 'x', 1n);
    const big = envelope('big:1', 'big', 'y'.repeat(1024 * 1024 + 1), 2n);
    const bytes = toBinary(PublishRequestSchema, create(PublishRequestSchema, { envelopes: [ok, big] }));
    expect(bytes.length).toBeLessThan(MAX_BODY);
    const { status, error } = await post({ 'content-type': 'application/proto' }, bytes);
    expect(status).toBe(400);
    expect(violation(error)).toMatchObject({ field: 'envelopes[1].payload', ruleId: 'bytes.max_len' });
    expect(await stored('big:1')).toBeUndefined();
  });

  it('a JSON body nested far deeper than a request can be is refused before it is parsed', async () => {
    const deep = `{"envelopes":[],"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const { status, error } = await post({ 'content-type': 'application/json' }, deep);
    expect(status).toBe(400);
    expect(violation(error)).toMatchObject({ ruleId: 'request.json_depth' });
    await stillServes();
  });

  it('invalid UTF-8 is a 400 with a typed error, in JSON and in binary strings', async () => {
    const json = Buffer.concat([
      Buffer.from('{"envelopes":[{"streamId":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}]}'),
    ]);
    const asJson = await post({ 'content-type': 'application/json' }, json);
    expect(asJson.status).toBe(400);
    expect(violation(asJson.error)).toMatchObject({ ruleId: 'request.utf8' });

    const good = toBinary(
      PublishRequestSchema,
      create(PublishRequestSchema, { envelopes: [envelope('utf:1', 'ab', 'x', 1n)] }),
    );
    const at = Buffer.from(good).indexOf(Buffer.from('utf:1'));
    const bad = Buffer.from(good);
    bad[at + 3] = 0xff; // inside stream_id
    const asBinary = await post({ 'content-type': 'application/proto' }, bad);
    expect(asBinary.status).toBe(400);
    expect(violation(asBinary.error)).toMatchObject({ ruleId: 'request.decode' });
    expect(await stored('utf:1')).toBeUndefined();
  });

  it('a refused request never moves the lag gauge (audit 10: lag poisoning)', async () => {
    const valid = envelope('payments:1', 'p1', 'x', 7n);
    const broken = envelope('payments:1', 'p2', 'x', 8n, { kind: '' });
    await client()
      .publish({ envelopes: [valid, broken] })
      .catch(() => {});
    const huge = envelope('payments:1', 'p3', 'x', 10n ** 18n); // refused by the module: too far ahead
    await client()
      .publish({ envelopes: [huge] })
      .catch(() => {});
    await client().publish({ envelopes: [envelope('payments:1', 'p4', 'x', 1n)] });
    const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^spacetime_sync_sequence_lag\{family="payments"\} 0$/m);
  });
});

describe('the ingest queue', () => {
  it('past its depth a publish gets RESOURCE_EXHAUSTED with a retry hint; the queued one still lands', async () => {
    const metrics = createAdapterMetrics(new Registry());
    const svc = ingestService(service.shards, metrics, undefined, undefined, 1);
    const ctx = {} as never;
    const first = svc.publish(
      create(PublishRequestSchema, { envelopes: [envelope('queue:1', 'a', 'x', 1n)] }),
      ctx,
    );
    const second = await Promise.resolve(
      svc.publish(create(PublishRequestSchema, { envelopes: [envelope('queue:1', 'b', 'x', 2n)] }), ctx),
    ).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(second?.code).toBe(Code.ResourceExhausted);
    expect(second?.findDetails(ErrorInfoSchema)).toEqual([
      expect.objectContaining({ reason: ErrorReason.RESOURCE_EXHAUSTED, retryable: true }),
    ]);
    const [detail] = second?.findDetails(ResourceExhaustedDetailSchema) ?? [];
    expect(detail).toMatchObject({ limit: 'ingest queue', max: 1n });
    expect(detail?.retryAfter?.seconds).toBe(1n);
    await first;
    expect(await stored('queue:1')).toEqual(['a']);
    await svc.publish(create(PublishRequestSchema, { envelopes: [envelope('queue:1', 'b', 'x', 2n)] }), ctx);
    expect(await stored('queue:1')).toEqual(['a', 'b']);
  });
});
