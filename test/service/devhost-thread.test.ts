/**
 * The embedded devhost on its own worker thread (adapter/devhost-thread/): the service's side of
 * its failure. A thread that dies while serving — here it outgrows its heap limit
 * (DEVHOST_THREAD_HEAP_MB), the way a devhost holding too much in memory would — must fail the
 * service where a user looks: /readyz says the thread died, the `failure` the CLI waits on settles,
 * publishes are refused, and stopping the service still ends. The CLI side (exit 1) is
 * test/cli/start-devhost-thread.test.ts.
 */
import { createClient } from '@connectrpc/connect';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import { IngestService } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { authedTransport } from '../support/auth.js';
import { syncEnvelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';

const services: RunningService[] = [];
afterAll(async () => {
  for (const s of services) await s.stop();
});

/** Events with long idempotency keys (strings the datastore indexes, on the thread's heap). */
const heavyBatch = (n: number) =>
  Array.from({ length: 100 }, (_, i) =>
    syncEnvelope(`heavy:${n}`, `${n}-${i}-`.padEnd(250, 'k'), 'x', BigInt(i + 1)),
  );

describe('the embedded devhost on its own thread', () => {
  it('runs on a worker thread by default, its owner token known to the service, not printed', async () => {
    const service = await startTestService();
    services.push(service);
    expect(service.devhost?.thread).toBe('worker');
    expect(service.devhost?.ownerToken.length).toBeGreaterThan(20);
    expect((await fetch(`${service.httpUrl}/readyz`)).status).toBe(200);
  }, 120_000);

  it('a thread that dies while serving fails the service: /readyz names it, the failure settles, publishes are refused, stop() ends', async () => {
    const service = await startTestService({
      spacetime: { kind: 'embedded', port: 0, threadHeapMb: 48 },
      probeIntervalMs: 0,
    });
    services.push(service);
    const failure = service.devhost?.failure;
    if (!failure) throw new Error('no embedded devhost');
    let died: Error | undefined;
    void failure.then((e) => {
      died = e;
    });
    const publisher = createClient(IngestService, authedTransport(service.httpUrl));
    // Publish until the thread is gone (each answer or refusal is awaited: no fixed wait).
    let refused = 0;
    for (let n = 1; died === undefined && n < 20_000; n++)
      await publisher.publish({ envelopes: heavyBatch(n) }).catch(() => refused++);
    expect(died?.message, `not dead after ${refused} refused publishes`).toMatch(
      /the embedded devhost's thread died/,
    );
    await expect
      .poll(async () => {
        const res = await fetch(`${service.httpUrl}/readyz`);
        return `${res.status} ${await res.text()}`;
      })
      .toMatch(/^503 .*the embedded devhost's thread died/);
    await expect(publisher.publish({ envelopes: heavyBatch(0) })).rejects.toThrow();
    await service.stop();
  }, 300_000);
});
