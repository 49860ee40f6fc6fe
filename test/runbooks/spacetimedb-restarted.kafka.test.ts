/**
 * runbooks/spacetimedb-restarted.md, run as written: SpacetimeDB (devhost on a data dir) goes away
 * while events arrive, the runbook's first steps show it down, SpacetimeDB comes back on its data,
 * and the rest show the reconnect, the data kept and the waiting events appended.
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

it('spacetimedb-restarted.md: down, back on its data, reconnected, nothing lost', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'runbook-stdb-'));
  const port = await freePort();
  let devhost: Devhost = await startSyncDevhost(dataDir, port);
  stops.push(() => devhost.stop());
  // The production default session timeout: a short outage keeps the consumer in its group.
  const stack = await runbookStack({
    devhost,
    token: devhost.ownerToken,
    kafka: { sessionTimeoutMs: 15_000 },
  });
  stops.push(() => stack.service.stop());
  const operator = await tokenFileEnv({ roles: ['operator'] });
  await stack.produce('orders:9', 3);
  await expect.poll(() => stack.service.writer.streams().get('orders:9')?.head, { timeout: 30_000 }).toBe(3n);

  await devhost.stop();
  await expect.poll(() => stack.service.writer.isConnected, { timeout: 30_000 }).toBe(false);
  await stack.produce('orders:9', 2, 4); // arrives while SpacetimeDB is away
  // The consumer has fetched them (it retries their append): two authority seqs seen, not appended.
  const lag = () =>
    runCli(['lag', 'orders:9', '--url', stack.service.httpUrl], { env: cliEnv(operator) }).then((r) => r.out);
  await expect.poll(lag, { timeout: 30_000 }).toMatch(/^stream orders:9 .*seen 5 /m);

  const results = await runRunbook(
    'spacetimedb-restarted.md',
    { SPACETIME_SYNC_URL: stack.service.httpUrl, ...operator, STREAM: 'orders:9' },
    {
      codes: [1, 0, 0, 0, 0, 0],
      before: {
        '3. Wait until the service is connected again': async () => {
          devhost = await startSyncDevhost(dataDir, port);
        },
      },
    },
  );
  expect(
    results.map((r) => r.code),
    explain(results),
  ).toEqual([1, 0, 0, 0, 0, 0]);
  const [down, readyz, back, metrics, caughtUp, head] = results.map((r) => r.out);
  expect(down).toMatch(/^spacetimedb\s+reconnecting\s.*last error: /m);
  expect(readyz).toBe('not ready: SpacetimeDB not connected\n');
  expect(back).toMatch(/^spacetimedb\s+connected\s/m);
  expect(metrics).toMatch(/^spacetime_sync_spacetimedb_connected 1$/m);
  expect(metrics).toMatch(/^spacetime_sync_spacetimedb_reconnects_total 1$/m);
  expect(head).toMatch(/^orders:9\s+head 5\s+low watermark 1\s+epoch 1\s/m);
  expect(caughtUp).toMatch(/^stream orders:9\s+appended 5\s+seen 5\s+lag 0$/m);
  expect(caughtUp).toMatch(/^partition \S+\/0\s+committed \d+\s+end 5\s/m);
}, 240_000);
