/**
 * A pipelining publisher's sequence is kept by the module, not the service's memory: after the service
 * restarts (embedded devhost on its data dir, as `start` runs it) the publisher continues with the
 * same publisher_id and its next seq; one ahead of it is still refused typed and retryable; a repeat of
 * an applied seq answers its original seqs. And a request that fails while a later one of the same
 * publisher is already on its way does not let the later one commit first.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import {
  ErrorInfoSchema,
  ErrorReason,
  PublisherSequenceDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { IngestService, PublishOutcome } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { authedTransport } from '../support/auth.js';
import { embeddedStoredEvents } from '../support/devhost-harness.js';
import { syncEnvelope as envelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';

const dataDir = mkdtempSync(join(tmpdir(), 'publisher-seq-durable-'));
const running: RunningService[] = [];

afterAll(async () => {
  for (const s of running) await s.stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<RunningService> {
  const s = await startTestService({ spacetime: { kind: 'embedded', port: 0, dataDir } });
  running.push(s);
  return s;
}

async function keys(service: RunningService, streamId: string): Promise<string[]> {
  return ((await embeddedStoredEvents(service.devhost, service.database)).get(streamId) ?? []).map(
    (x) => x.key,
  );
}

const refusal = async (call: Promise<unknown>): Promise<ConnectError> => {
  try {
    await call;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error('the call was applied');
};
const info = (e: ConnectError) => e.findDetails(ErrorInfoSchema)[0];
const sequence = (e: ConnectError) => e.findDetails(PublisherSequenceDetailSchema)[0];

describe('the publisher sequence across a service restart', () => {
  it('continues the same publisher_id after a restart, refuses one ahead typed, answers a repeat with its original seqs', async () => {
    const publisherId = randomUUID();
    const stream = 'durable:pub';
    const req = (s: number, key = `k${s}`) => ({
      publisherId,
      publisherSeq: BigInt(s),
      envelopes: [envelope(stream, key, `body ${s}`, BigInt(s))],
    });
    let service = await start();
    let c = createClient(IngestService, authedTransport(service.httpUrl));
    for (const s of [1, 2, 3]) await c.publish(req(s));
    await service.stop();

    service = await start();
    c = createClient(IngestService, authedTransport(service.httpUrl));
    // Ahead of the module's cursor (3): refused, retryable, naming 4; nothing of it applied.
    const ahead = await refusal(c.publish(req(5)));
    expect(ahead.code).toBe(Code.Aborted);
    expect(info(ahead)).toMatchObject({ reason: ErrorReason.OUT_OF_ORDER_SEQUENCE, retryable: true });
    expect(sequence(ahead)).toMatchObject({ publisherId, expectedSeq: 4n, offeredSeq: 5n });
    expect(await keys(service, stream)).toEqual(['k1', 'k2', 'k3']);
    // The same publisher continues where it was, and a repeat from before the restart is a duplicate.
    const fourth = await c.publish(req(4));
    expect(fourth.results.map((r) => [r.seq, r.outcome])).toEqual([[4n, PublishOutcome.APPENDED]]);
    const again = await c.publish(req(2));
    expect(again.results.map((r) => [r.seq, r.outcome])).toEqual([[2n, PublishOutcome.DUPLICATE]]);
    const fifth = await c.publish(req(5));
    expect(fifth.results.map((r) => r.seq)).toEqual([5n]);
    expect(await keys(service, stream)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
    await service.stop();
  }, 180_000);

  it('a request that fails while its successor is in flight holds the successor back: neither commits out of order, both go through when resent in order', async () => {
    const service = await start();
    const cs = Array.from({ length: 2 }, () => createClient(IngestService, authedTransport(service.httpUrl)));
    const [c1, c2] = cs as [(typeof cs)[0], (typeof cs)[0]];
    const publisherId = randomUUID();
    const stream = 'durable:gap';
    const req = (s: number, key: string, body: string) => ({
      publisherId,
      publisherSeq: BigInt(s),
      envelopes: [envelope(stream, key, body, BigInt(s))],
    });
    await c1.publish(req(1, 'a', 'one'));
    // Seq 2 reuses key 'a' with another payload: the module refuses it (conflict). Seq 3 is sent
    // at the same time on another connection, so it is on its way while 2 fails.
    const [second, third] = await Promise.all([
      refusal(c1.publish(req(2, 'a', 'not one'))),
      refusal(c2.publish(req(3, 'c', 'three'))),
    ]);
    expect(info(second)?.reason).toBe(ErrorReason.CONFLICT);
    expect(info(third)).toMatchObject({ reason: ErrorReason.OUT_OF_ORDER_SEQUENCE, retryable: true });
    expect(sequence(third)).toMatchObject({ expectedSeq: 2n, offeredSeq: 3n });
    expect(await keys(service, stream)).toEqual(['a']);
    // The publisher corrects seq 2 and sends it, then seq 3 unchanged: applied in its order.
    await c1.publish(req(2, 'b', 'two'));
    const retried = await c2.publish(req(3, 'c', 'three'));
    expect(retried.results.map((r) => [r.seq, r.outcome])).toEqual([[3n, PublishOutcome.APPENDED]]);
    expect(await keys(service, stream)).toEqual(['a', 'b', 'c']);
  }, 120_000);
});
