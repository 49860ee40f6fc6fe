/**
 * The Connect ingest as a publisher sees it: batches of 100 × 200 B to one stream, answered after the
 * commit, with one request in flight and with IN_FLIGHT (`BENCH_PUBLISH_IN_FLIGHT`, default 8) in
 * flight — the pipelining publisher of README "Pipelined publishing" (publisher_id + publisher_seq;
 * the service applies them in order, its writer keeps several reducer calls in flight). The service
 * runs in this process with its embedded devhost, memory only. Same client, same request shape.
 */
import { randomUUID } from 'node:crypto';
import { ConnectError, createClient } from '@connectrpc/connect';
import type { RunningService } from '../adapter/service.js';
import { ErrorInfoSchema, ErrorReason } from '../proto/gen/spacetime_sync/v1/errors_pb.js';
import { IngestService } from '../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { authedTransport } from '../test/support/auth.js';
import { syncEnvelope } from '../test/support/envelopes.js';
import { startTestService } from '../test/support/service-harness.js';
import type { BenchCase } from './harness.js';

const BATCH = 100;
const BODY = 'x'.repeat(200);
const IN_FLIGHT = Number(process.env.BENCH_PUBLISH_IN_FLIGHT ?? 8);
/** Batches one run of the pipelined case sends (through a window of IN_FLIGHT). */
const PER_RUN = IN_FLIGHT * 4;
export const PUBLISH_ONE = `ingest: publish, batches of ${BATCH} × 200 B, 1 in flight to one stream (memory only)`;
export const PUBLISH_PIPELINED = `ingest: publish, batches of ${BATCH} × 200 B, ${IN_FLIGHT} in flight to one stream (memory only)`;

type Client = ReturnType<typeof createClient<typeof IngestService>>;

/** One publisher: a stream, its authority seqs and (when pipelining) its publisher id and seqs. */
function publisher(client: Client, stream: string, pipelined: boolean) {
  const publisherId = randomUUID();
  let authority = 0n;
  let seq = 0n;
  let key = 0;
  return async (): Promise<void> => {
    // Numbered synchronously, in call order.
    const envelopes = Array.from({ length: BATCH }, () =>
      syncEnvelope(stream, `k${++key}`, BODY, ++authority, { authorityTopic: 'bench' }),
    );
    const req = { envelopes, ...(pipelined ? { publisherId, publisherSeq: ++seq } : {}) };
    for (let attempt = 0; ; attempt++) {
      try {
        await client.publish(req);
        return;
      } catch (e) {
        const reason = ConnectError.from(e).findDetails(ErrorInfoSchema)[0]?.reason;
        if (reason !== ErrorReason.OUT_OF_ORDER_SEQUENCE || attempt >= 5) throw e;
      }
    }
  };
}

/** Runs `count` calls of `publish`, at most `window` at once. */
async function windowed(publish: () => Promise<void>, count: number, window: number): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started += 1;
      await publish();
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
}

export default function suite(): BenchCase[] {
  let service: RunningService | undefined;
  let client: Client;
  let one: () => Promise<void>;
  let pipelined: () => Promise<void>;
  const setup = async () => {
    if (service) return;
    service = await startTestService();
    client = createClient(IngestService, authedTransport(service.httpUrl));
    one = publisher(client, 'bench:ingest-one', false);
    pipelined = publisher(client, 'bench:ingest-pipelined', true);
  };
  const teardown = async () => {
    await service?.stop();
    service = undefined;
  };
  return [
    { name: PUBLISH_ONE, opsPerRun: BATCH, setup, run: () => one(), teardown },
    {
      name: PUBLISH_PIPELINED,
      opsPerRun: BATCH * PER_RUN,
      compareTo: PUBLISH_ONE,
      setup,
      run: () => windowed(pipelined, PER_RUN, IN_FLIGHT),
      teardown,
      report: () => [
        `a run is ${PER_RUN} batches through a window of ${IN_FLIGHT}; p50/p99 are per run, not per batch`,
      ],
    },
  ];
}
