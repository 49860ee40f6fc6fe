/**
 * runbooks/consumer-lag.md, run as written: SpacetimeDB (devhost on a data dir) goes away while
 * producers keep publishing, so the partition's lag grows; the runbook shows how far behind, points
 * at SpacetimeDB as the cause, and once SpacetimeDB is back shows the lag drained.
 */
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Devhost } from '@spacetime-sync/devhost';
import { afterAll, expect, it } from 'vitest';
import { tokenFileEnv } from '../support/auth.js';
import { cliEnv, runCli } from '../support/cli.js';
import { startSyncDevhost } from '../support/devhost-harness.js';
import { explain, runRunbook } from '../support/runbook.js';
import { runbookStack } from './testing/stack.js';

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const s of stops.reverse()) await s();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

it('consumer-lag.md: lag grows while SpacetimeDB is away, the cause is named, and it drains', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'runbook-lag-'));
  const port = await freePort();
  let devhost: Devhost = await startSyncDevhost(dataDir, port);
  stops.push(() => devhost.stop());
  const stack = await runbookStack({
    devhost,
    token: devhost.ownerToken,
    kafka: { sessionTimeoutMs: 15_000, maxInFlight: 10 },
  });
  stops.push(() => stack.service.stop());
  const operator = await tokenFileEnv({ roles: ['operator'] });
  await stack.produce('orders:2', 3);
  await expect.poll(() => stack.service.writer.streams().get('orders:2')?.head, { timeout: 30_000 }).toBe(3n);

  await devhost.stop();
  await expect.poll(() => stack.service.writer.isConnected, { timeout: 30_000 }).toBe(false);
  await stack.produce('orders:2', 40, 4);
  const lag = () =>
    runCli(['lag', '--url', stack.service.httpUrl], { env: cliEnv(operator) }).then((r) => r.out);
  await expect.poll(lag, { timeout: 30_000 }).toMatch(/ end 43 {2}lag 40$/m);

  const results = await runRunbook(
    'consumer-lag.md',
    { SPACETIME_SYNC_URL: stack.service.httpUrl, ...operator },
    {
      before: {
        '4. Watch it drain once the cause is fixed': async () => {
          devhost = await startSyncDevhost(dataDir, port);
          await stack.produce('orders:2', 1, 44); // producers go on publishing
        },
      },
    },
  );
  expect(
    results.map((r) => r.code),
    explain(results),
  ).toEqual([0, 0, 0, 0]);
  const [behind, cause, appends, drained] = results.map((r) => r.out);
  expect(behind).toMatch(/^partition \S+\/0\s+committed 3\s+end 43\s+lag 40$/m);
  expect(cause).toMatch(/^spacetime_sync_spacetimedb_connected 0$/m);
  expect(cause).toMatch(/^spacetime_sync_kafka_consuming 1$/m);
  expect(appends).toMatch(/^spacetime_sync_reducer_call_duration_seconds_count \d+$/m);
  expect(drained).toMatch(/^partition \S+\/0\s+committed 44\s+end 44\s+lag 0$/m);
  expect(stack.service.writer.streams().get('orders:2')?.head).toBe(44n);
}, 240_000);
