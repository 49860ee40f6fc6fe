/**
 * runbooks/spacetimedb-restarted.md, run as written: SpacetimeDB (devhost on a data dir) goes away
 * while events arrive, the runbook's first steps show it down, SpacetimeDB comes back on its data,
 * and the rest show the reconnect, the data kept and the waiting events appended.
 */
import { afterAll, expect, it } from 'vitest';
import { cliEnv, runCli } from '../support/cli.js';
import { explain, runRunbook } from '../support/runbook.js';
import { type SpacetimedbOutage, spacetimedbOutage } from './testing/spacetimedb-outage.js';

let outage: SpacetimedbOutage | undefined;
afterAll(() => outage?.close());

it('spacetimedb-restarted.md: down, back on its data, reconnected, nothing lost', async () => {
  // The production default session timeout: a short outage keeps the consumer in its group.
  outage = await spacetimedbOutage({ stream: 'orders:9', kafka: { sessionTimeoutMs: 15_000 } });
  const { stack, operator } = outage;
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
          await outage?.restartDevhost();
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
