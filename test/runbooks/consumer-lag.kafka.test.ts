/**
 * runbooks/consumer-lag.md, run as written: SpacetimeDB (devhost on a data dir) goes away while
 * producers keep publishing, so the partition's lag grows; the runbook shows how far behind, points
 * at SpacetimeDB as the cause, and once SpacetimeDB is back shows the lag drained.
 */
import { afterAll, expect, it } from 'vitest';
import { cliEnv, runCli } from '../support/cli.js';
import { explain, runRunbook } from '../support/runbook.js';
import { type SpacetimedbOutage, spacetimedbOutage } from './testing/spacetimedb-outage.js';

let outage: SpacetimedbOutage | undefined;
afterAll(() => outage?.close());

it('consumer-lag.md: lag grows while SpacetimeDB is away, the cause is named, and it drains', async () => {
  outage = await spacetimedbOutage({
    stream: 'orders:2',
    kafka: { sessionTimeoutMs: 15_000, maxInFlight: 10 },
  });
  const { stack, operator } = outage;
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
          await outage?.restartDevhost();
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
