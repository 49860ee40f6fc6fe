/**
 * The embedded devhost's disk fills up (security audit finding 4), on a real 3 MiB tmpfs: the publish
 * whose commit could not be logged fails (nothing acknowledged is lost, nothing un-logged stays in
 * memory), `/readyz` says why, publishing is refused while the disk is full, and once the filesystem
 * grows the service recovers by itself: the retried publish lands with the next seq, gapless, and a
 * restart finds exactly the acknowledged events. The fault-injected twin that runs anywhere is
 * devhost/durability/disk-full.test.ts.
 *
 * Mounting a tmpfs needs root; without it this file is skipped (the reason is logged), and the
 * fault-injection test still covers the log's side.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { afterAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DATABASE } from '../../adapter/embedded-devhost.js';
import type { RunningService } from '../../adapter/service.js';
import { IngestService } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { authedTransport } from '../support/auth.js';
import { embeddedStoredEvents } from '../support/devhost-harness.js';
import { syncEnvelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'integrity-disk-full-'));
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return true;
  } catch (e) {
    console.warn(`disk-full.test.ts skipped: cannot mount a tmpfs here (${String(e).split('\n')[0]})`);
    return false;
  }
})();
const services: RunningService[] = [];

afterAll(async () => {
  for (const s of services) await s.stop().catch(() => {});
  if (mounted) execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

async function start(): Promise<RunningService> {
  const s = await startTestService({
    spacetime: { kind: 'embedded', port: 0, dataDir: join(mountPoint, 'data') },
    probeIntervalMs: 0,
  });
  services.push(s);
  return s;
}

const publisher = (s: RunningService) => createClient(IngestService, authedTransport(s.httpUrl));
const event = (n: number) => syncEnvelope('full:1', `k${n}`, `${n}:${'x'.repeat(64 * 1024)}`, BigInt(n));
const events = async (s: RunningService) =>
  (await embeddedStoredEvents(s.devhost, EMBEDDED_DATABASE)).get('full:1') ?? [];
const readyz = async (s: RunningService) => {
  const res = await fetch(`${s.httpUrl}/readyz`);
  return `${res.status} ${await res.text()}`;
};

describe.skipIf(!mounted)('a full disk under the embedded devhost (real tmpfs)', () => {
  it('rolls the un-logged commit back and reports it, says so on /readyz, and recovers by itself when space returns', async () => {
    let service = await start();
    let acknowledged = 0;
    let failure: unknown;
    for (let n = 1; n <= 200 && failure === undefined; n++) {
      try {
        await publisher(service).publish({ envelopes: [event(n)] });
        acknowledged = n;
      } catch (e) {
        failure = e;
      }
    }
    expect(failure, 'the 3 MiB disk never filled').toBeInstanceOf(ConnectError);
    expect((failure as ConnectError).code).toBe(Code.Unavailable); // retryable: not acknowledged
    expect(acknowledged).toBeGreaterThan(3);
    // Memory holds exactly what the log holds: the failed publish's event is gone, not pending.
    expect((await events(service)).map((e) => e.key)).toEqual(
      Array.from({ length: acknowledged }, (_, i) => `k${i + 1}`),
    );
    await expect
      .poll(() => readyz(service), { timeout: 20_000 })
      .toMatch(/^503 not ready: SpacetimeDB cannot commit: .*ENOSPC/);
    const refused = await publisher(service)
      .publish({ envelopes: [event(acknowledged + 1)] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.Unavailable);

    execFileSync('mount', ['-o', 'remount,size=64m', mountPoint]);
    await expect.poll(() => readyz(service), { timeout: 60_000, interval: 250 }).toBe('200 ready\n');
    await publisher(service).publish({ envelopes: [event(acknowledged + 1)] });
    const expected = Array.from({ length: acknowledged + 1 }, (_, i) => ({
      seq: BigInt(i + 1),
      key: `k${i + 1}`,
    }));
    expect(await events(service)).toEqual(expected);

    await service.stop();
    service = await start();
    expect(await events(service)).toEqual(expected);
  }, 180_000);
});
