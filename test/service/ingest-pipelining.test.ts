/**
 * Pipelined publishing end to end: the service on embedded devhost, one publisher keeping many
 * requests in flight to one stream, sent in a shuffled order over several connections. The stream
 * must come out gapless in the publisher's order with nothing lost; a request whose predecessor never
 * comes is refused with the typed, retryable OUT_OF_ORDER_SEQUENCE naming the seq expected; a
 * repeated seq answers its original results.
 */
import { randomUUID } from 'node:crypto';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

let service: RunningService;

beforeAll(async () => {
  service = await startTestService();
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

async function streamKeys(streamId: string): Promise<string[]> {
  return ((await embeddedStoredEvents(service.devhost, service.database)).get(streamId) ?? []).map(
    (x) => x.key,
  );
}

/** Several clients (connections), so requests really do overtake each other. */
const clients = () =>
  Array.from({ length: 4 }, () => createClient(IngestService, authedTransport(service.httpUrl)));

const reasonOf = (e: unknown) => ConnectError.from(e).findDetails(ErrorInfoSchema)[0]?.reason;

describe('pipelined publishing to one stream', () => {
  it('applies 60 requests sent all at once in a shuffled order in the publisher’s order, gapless, none lost', async () => {
    const stream = 'pipe:shuffled';
    const publisherId = randomUUID();
    const n = 60;
    const perRequest = 5;
    // Request s carries authority seqs 5(s-1)+1 … 5s: applied out of order, the module would refuse
    // the later-arriving earlier ones as a source regression.
    const request = (s: number) => ({
      publisherId,
      publisherSeq: BigInt(s),
      envelopes: Array.from({ length: perRequest }, (_, i) => {
        const a = (s - 1) * perRequest + i + 1;
        return envelope(stream, `r${s}-e${i}`, `body ${a}`, BigInt(a));
      }),
    });
    const order = fc.sample(
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i + 1),
        { minLength: n, maxLength: n },
      ),
      { numRuns: 1, seed: 15 },
    )[0] as number[];
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
    const cs = clients();
    // A publisher: everything in flight at once; what comes back retryable is sent again.
    let outstanding = order;
    const answered = new Map<number, bigint[]>();
    for (let round = 0; outstanding.length > 0 && round < 10; round++) {
      const outcomes = await Promise.all(
        outstanding.map((s, i) =>
          (cs[i % cs.length] as (typeof cs)[number]).publish(request(s)).then(
            (r) => ({ s, seqs: r.results.map((x) => x.seq) }),
            (e: unknown) => {
              expect(reasonOf(e)).toBe(ErrorReason.OUT_OF_ORDER_SEQUENCE);
              return { s, seqs: undefined };
            },
          ),
        ),
      );
      for (const o of outcomes) if (o.seqs) answered.set(o.s, o.seqs);
      outstanding = outcomes.filter((o) => !o.seqs).map((o) => o.s);
    }
    expect(outstanding).toEqual([]);
    const expectedKeys = Array.from({ length: n }, (_, s) =>
      Array.from({ length: perRequest }, (_, i) => `r${s + 1}-e${i}`),
    ).flat();
    expect(await streamKeys(stream)).toEqual(expectedKeys);
    // Each request got the stream seqs its position in the publisher's order gives it.
    for (let s = 1; s <= n; s++) {
      expect(answered.get(s)).toEqual(
        Array.from({ length: perRequest }, (_, i) => BigInt((s - 1) * perRequest + i + 1)),
      );
    }
    // A repeated seq (an answer lost on the way) gets its original results back, nothing appended.
    const again = await (cs[0] as (typeof cs)[number]).publish(request(7));
    expect(again.results.map((r) => r.seq)).toEqual(answered.get(7));
    expect(await streamKeys(stream)).toHaveLength(n * perRequest);
  }, 120_000);

  it('refuses a request whose predecessor never comes, retryable, naming the seq expected, and applies none of it', async () => {
    const publisherId = randomUUID();
    const [c] = clients();
    if (!c) throw new Error('no client');
    await c.publish({ publisherId, publisherSeq: 1n, envelopes: [envelope('pipe:gap', 'g1', 'one', 1n)] });
    const refused = await c
      .publish({ publisherId, publisherSeq: 3n, envelopes: [envelope('pipe:gap', 'g3', 'three', 3n)] })
      .catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    const err = refused as ConnectError;
    expect(err.code).toBe(Code.Aborted);
    expect(err.findDetails(ErrorInfoSchema)[0]).toMatchObject({
      reason: ErrorReason.OUT_OF_ORDER_SEQUENCE,
      retryable: true,
    });
    expect(err.findDetails(PublisherSequenceDetailSchema)[0]).toMatchObject({
      publisherId,
      expectedSeq: 2n,
      offeredSeq: 3n,
    });
    expect(await streamKeys('pipe:gap')).toEqual(['g1']);
    // Once the gap is sent, the refused one goes through unchanged.
    await c.publish({ publisherId, publisherSeq: 2n, envelopes: [envelope('pipe:gap', 'g2', 'two', 2n)] });
    const third = await c.publish({
      publisherId,
      publisherSeq: 3n,
      envelopes: [envelope('pipe:gap', 'g3', 'three', 3n)],
    });
    expect(third.results.map((r) => [r.seq, r.outcome])).toEqual([[3n, PublishOutcome.APPENDED]]);
    expect(await streamKeys('pipe:gap')).toEqual(['g1', 'g2', 'g3']);
  }, 60_000);

  it('refuses publisher_id without publisher_seq as invalid', async () => {
    const [c] = clients();
    if (!c) throw new Error('no client');
    const refused = await c
      .publish({ publisherId: 'p', envelopes: [envelope('pipe:bad', 'b1', 'x', 1n)] })
      .catch((e: unknown) => ConnectError.from(e));
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);
    expect(await streamKeys('pipe:bad')).toEqual([]);
  });
});
