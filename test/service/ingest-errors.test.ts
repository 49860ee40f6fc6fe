/**
 * What a publisher sees when the ingest API refuses a request: an HTTP status by the Connect code,
 * an ErrorInfo with the contract reason, and the reason's typed detail — for bodies that do not
 * decode, for requests that break the contract, and for refusals of the sync module. Nothing of a
 * refused batch is appended. The service runs on embedded devhost; no broker is needed.
 */
import { create, type DescMessage, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { errorFromJsonBytes } from '@connectrpc/connect/protocol-connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import {
  ConflictDetailSchema,
  ErrorInfoSchema,
  ErrorReason,
  InvalidDetailSchema,
  ProtocolVersionMismatchDetailSchema,
  SourceRegressionDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { IngestService, PublishRequestSchema } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { ProtocolVersionSchema } from '../../proto/gen/spacetime_sync/v1/protocol_pb.js';
import { sha256 } from '../../shared/payload-hash.js';
import { authedTransport, bearer } from '../support/auth.js';
import { embeddedStoredEvents } from '../support/devhost-harness.js';
import { syncEnvelope as envelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';

let service: RunningService;

beforeAll(async () => {
  service = await startTestService();
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

const client = () => createClient(IngestService, authedTransport(service.httpUrl));

/** A raw POST as curl sends it: the HTTP status and the Connect error in the body. */
async function post(
  contentType: string,
  body: string | Uint8Array,
): Promise<{ status: number; error: ConnectError }> {
  const res = await fetch(`${service.httpUrl}/spacetime_sync.v1.IngestService/Publish`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(await bearer()) },
    body,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return {
    status: res.status,
    error: errorFromJsonBytes(bytes, undefined, new ConnectError('no error body')),
  };
}

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error('the call succeeded');
}

function typed<D extends DescMessage>(e: ConnectError, reason: ErrorReason, schema: D) {
  expect(e.findDetails(ErrorInfoSchema)).toEqual([expect.objectContaining({ reason })]);
  const details = e.findDetails(schema);
  expect(details).toHaveLength(1);
  return details[0] as NonNullable<(typeof details)[0]>;
}

const keys = async (stream: string) =>
  (await embeddedStoredEvents(service.devhost, service.database)).get(stream)?.map((x) => x.key);

describe('ingest: bodies that are not a valid request', () => {
  it('answers an empty request `{}` with 400 and the broken rule', async () => {
    const { status, error } = await post('application/json', '{}');
    expect([status, error.code]).toEqual([400, Code.InvalidArgument]);
    expect(typed(error, ErrorReason.INVALID, InvalidDetailSchema).fieldViolations).toEqual([
      expect.objectContaining({ field: 'envelopes', ruleId: 'repeated.min_items' }),
    ]);
  });

  it('answers unknown JSON fields with 400 naming the field, instead of ignoring them', async () => {
    const { status, error } = await post('application/json', '{"envelopes":[],"envelope":[{}]}');
    expect([status, error.code]).toEqual([400, Code.InvalidArgument]);
    const [violation] = typed(error, ErrorReason.INVALID, InvalidDetailSchema).fieldViolations;
    expect(violation).toMatchObject({ ruleId: 'request.decode' });
    expect(violation?.description).toMatch(/envelope/);
  });

  it('answers a JSON body sent as application/proto with 400, not 500', async () => {
    const { status, error } = await post('application/proto', '{"envelopes":[]}');
    expect([status, error.code]).toEqual([400, Code.InvalidArgument]);
    const [violation] = typed(error, ErrorReason.INVALID, InvalidDetailSchema).fieldViolations;
    expect(violation).toMatchObject({ ruleId: 'request.decode' });
    expect(violation?.description).toMatch(/binary protobuf/);
  });

  it('still takes a valid binary body', async () => {
    const body = toBinary(
      PublishRequestSchema,
      create(PublishRequestSchema, { envelopes: [envelope('bin:1', 'a', 'x', 1n)] }),
    );
    const res = await fetch(`${service.httpUrl}/spacetime_sync.v1.IngestService/Publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/proto', ...(await bearer()) },
      body,
    });
    expect(res.status).toBe(200);
    expect(await keys('bin:1')).toEqual(['a']);
  });
});

describe('ingest: requests that break the contract', () => {
  it('lists every broken rule of every envelope, with paths from the request root, and appends nothing', async () => {
    const tampered = envelope('many:1', 'b', 'x', 2n);
    tampered.payloadHash = new Uint8Array(32);
    const e = await refusal(
      client().publish({
        envelopes: [envelope('', 'a', 'x', 1n, { kind: '' }), tampered, envelope('many:1', 'c', 'y', 3n)],
      }),
    );
    expect(e.code).toBe(Code.InvalidArgument);
    const violations = typed(e, ErrorReason.INVALID, InvalidDetailSchema).fieldViolations;
    expect(violations.map((v) => [v.field, v.ruleId])).toEqual([
      ['envelopes[0].stream_id', 'string.min_len'],
      ['envelopes[0].kind', 'string.min_len'],
      ['envelopes[1].payload_hash', 'payload_hash.mismatch'],
    ]);
    expect(await keys('many:1')).toBeUndefined();
  });

  it('refuses an envelope written for another protocol major, with what the server accepts', async () => {
    const v2 = envelope('proto:1', 'a', 'x', 1n, {
      protocolVersion: create(ProtocolVersionSchema, { major: 2 }),
    });
    const e = await refusal(client().publish({ envelopes: [envelope('proto:1', 'z', 'x', 1n), v2] }));
    expect(e.code).toBe(Code.FailedPrecondition);
    const detail = typed(e, ErrorReason.PROTOCOL_VERSION_MISMATCH, ProtocolVersionMismatchDetailSchema);
    expect(detail.accepted.map((v) => [v.major, v.minor])).toEqual([[1, 0]]);
    expect(detail.offered.map((v) => [v.major, v.minor])).toEqual([[2, 0]]);
    expect(e.rawMessage).toMatch(/envelopes\[1\]/);
    expect(await keys('proto:1')).toBeUndefined();
  });

  it('negotiates the lower minor of a shared major, and fails with the accepted versions when none is shared', async () => {
    const ok = await client().negotiate({ supported: [{ major: 1, minor: 4 }] });
    expect([ok.chosen?.major, ok.chosen?.minor]).toEqual([1, 0]);
    const e = await refusal(
      client().negotiate({
        supported: [
          { major: 2, minor: 0 },
          { major: 3, minor: 1 },
        ],
      }),
    );
    expect(e.code).toBe(Code.FailedPrecondition);
    const detail = typed(e, ErrorReason.PROTOCOL_VERSION_MISMATCH, ProtocolVersionMismatchDetailSchema);
    expect(detail.offered.map((v) => v.major)).toEqual([2, 3]);
    expect(detail.accepted.map((v) => v.major)).toEqual([1]);
    const empty = await refusal(client().negotiate({ supported: [] }));
    expect(empty.code).toBe(Code.InvalidArgument);
  });
});

describe("ingest: the sync module's refusals", () => {
  it('a reused key with another payload is ALREADY_EXISTS with both hashes, the seq and the envelope index', async () => {
    await client().publish({ envelopes: [envelope('mod:1', 'k1', 'first', 1n)] });
    const e = await refusal(
      client().publish({
        envelopes: [envelope('mod:1', 'k2', 'next', 2n), envelope('mod:1', 'k1', 'CHANGED', 1n)],
      }),
    );
    expect(e.code).toBe(Code.AlreadyExists);
    expect(typed(e, ErrorReason.CONFLICT, ConflictDetailSchema)).toMatchObject({
      streamId: 'mod:1',
      idempotencyKey: 'k1',
      existingSeq: 1n,
      existingPayloadHash: sha256(new TextEncoder().encode('first')),
      offeredPayloadHash: sha256(new TextEncoder().encode('CHANGED')),
      envelopeIndex: 1,
    });
    expect(await keys('mod:1')).toEqual(['k1']);
  });

  it("a new key from the authority's past is FAILED_PRECONDITION with the seqs, and the batch is not appended", async () => {
    await client().publish({ envelopes: [envelope('mod:2', 'a', 'a', 10n)] });
    const e = await refusal(
      client().publish({ envelopes: [envelope('mod:2', 'b', 'b', 11n), envelope('mod:2', 'old', 'o', 4n)] }),
    );
    expect(e.code).toBe(Code.FailedPrecondition);
    expect(typed(e, ErrorReason.SOURCE_REGRESSION, SourceRegressionDetailSchema)).toMatchObject({
      streamId: 'mod:2',
      authorityTopic: 'runtime',
      lastAuthoritySeq: 11n,
      offeredAuthoritySeq: 4n,
      envelopeIndex: 1,
    });
    expect(await keys('mod:2')).toEqual(['a']);
  });
});
