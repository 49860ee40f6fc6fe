/**
 * The Connect ingest API end to end, without Kafka: the service on embedded devhost answers publishes
 * with the assigned (stream, seq) after commit, and refuses bad batches with typed errors.
 */
import { create, toJsonString } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import { ErrorInfoSchema, ErrorReason } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import {
  IngestService,
  PublishOutcome,
  PublishRequestSchema,
} from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
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

/** The idempotency keys of a stream in seq order, read off the host. */
async function streamKeys(streamId: string): Promise<string[] | undefined> {
  return (await embeddedStoredEvents(service.devhost, service.database)).get(streamId)?.map((x) => x.key);
}

describe('Connect ingest', () => {
  const client = () => createClient(IngestService, authedTransport(service.httpUrl));

  it('answers with the assigned (stream, seq) after commit, and duplicates keep their seq', async () => {
    const first = await client().publish({
      envelopes: [envelope('chat:9', 'm1', 'hi', 1n), envelope('chat:9', 'm2', 'there', 2n)],
    });
    expect(first.results.map((r) => [r.streamId, r.seq, r.outcome])).toEqual([
      ['chat:9', 1n, PublishOutcome.APPENDED],
      ['chat:9', 2n, PublishOutcome.APPENDED],
    ]);
    const again = await client().publish({ envelopes: [envelope('chat:9', 'm2', 'there', 2n)] });
    expect(again.results.map((r) => [r.seq, r.outcome])).toEqual([[2n, PublishOutcome.DUPLICATE]]);
    expect(again.results[0]?.epoch).toBe(1n);
  });

  it('refuses a conflict or an invalid envelope with a typed error and appends nothing from the batch', async () => {
    const conflict = await client()
      .publish({ envelopes: [envelope('chat:9', 'm3', 'new', 3n), envelope('chat:9', 'm1', 'CHANGED', 1n)] })
      .catch((e: unknown) => ConnectError.from(e));
    expect(conflict).toBeInstanceOf(ConnectError);
    expect((conflict as ConnectError).code).toBe(Code.AlreadyExists);
    expect((conflict as ConnectError).findDetails(ErrorInfoSchema)[0]?.reason).toBe(ErrorReason.CONFLICT);
    const invalid = await client()
      .publish({ envelopes: [envelope('', 'x', 'x', 1n)] })
      .catch((e: unknown) => ConnectError.from(e));
    expect((invalid as ConnectError).code).toBe(Code.InvalidArgument);
    expect(await streamKeys('chat:9')).toEqual(['m1', 'm2']);
  });

  it('answers a 100-envelope publish uncompressed although the client accepts gzip', async () => {
    // ≈ 11 KiB of JSON: compressing it cost more time than it saves (adapter/http/connect-handler.ts).
    const envelopes = Array.from({ length: 100 }, (_, i) =>
      envelope('chat:plain', `p${i}`, 'x', BigInt(i + 1)),
    );
    const res = await fetch(`${service.httpUrl}/spacetime_sync.v1.IngestService/Publish`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'accept-encoding': 'gzip, br',
        ...(await bearer()),
      },
      body: toJsonString(PublishRequestSchema, create(PublishRequestSchema, { envelopes })),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBeNull();
    const body = (await res.json()) as { results: { seq: string }[] };
    expect(body.results.map((r) => r.seq)).toEqual(envelopes.map((_, i) => String(i + 1)));
  });
});
