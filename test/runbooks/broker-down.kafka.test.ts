/**
 * runbooks/broker-down.md, run as written against a broker of its own (scripts/kafka.sh in a data
 * dir of this test): the broker stops, the runbook's first steps show the consumer idle and the
 * brokers unreachable, its own step brings the broker back on its data, and the rest show the
 * consumer resumed and the events sent afterwards appended.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { tokenFileEnv } from '../support/auth.js';
import { explain, runRunbook } from '../support/runbook.js';
import { runbookStack } from './testing/stack.js';

const run = promisify(execFile);
const KAFKA_SH = new URL('../../scripts/kafka.sh', import.meta.url).pathname;
const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const s of stops.reverse()) await s();
});

it('broker-down.md: consumer idle while the broker is down, resumed once it is back, nothing left behind', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'runbook-broker-'));
  stops.push(() => rm(dataDir, { recursive: true, force: true }));
  const { stdout } = await run('bash', [KAFKA_SH, 'start', '--data', dataDir], { timeout: 180_000 });
  const brokers = /KAFKA_BROKERS=(\S+)/.exec(stdout)?.[1] ?? '';
  stops.push(() => run('bash', [KAFKA_SH, 'stop', '--data', dataDir], { timeout: 60_000 }));
  const stack = await runbookStack({ brokers: [brokers] });
  stops.push(() => stack.service.stop());
  const operator = await tokenFileEnv({ roles: ['operator'] });
  await stack.produce('orders:5', 3);
  await expect.poll(() => stack.service.writer.streams().get('orders:5')?.head, { timeout: 30_000 }).toBe(3n);

  await run('bash', [KAFKA_SH, 'stop', '--data', dataDir], { timeout: 60_000 });
  await expect.poll(() => stack.service.kafka?.status().state, { timeout: 60_000 }).not.toBe('consuming');

  const results = await runRunbook(
    'broker-down.md',
    {
      SPACETIME_SYNC_URL: stack.service.httpUrl,
      ...operator,
      STREAM: 'orders:5',
      KAFKA_BROKERS: brokers,
      KAFKA_DATA: dataDir,
    },
    {
      codes: [1, 0, 0, 0, 0, 0],
      before: {
        // The producers send again once the brokers are back.
        '6. Check nothing was left behind': () => stack.produce('orders:5', 2, 4),
      },
    },
  );
  expect(
    results.map((r) => r.code),
    explain(results),
  ).toEqual([1, 0, 0, 0, 0, 0]);
  const [down, working, reach, back, resumed, caughtUp] = results.map((r) => r.out);
  expect(down).toMatch(/^kafka\s+(connecting|crashed|restarting)\s.*last error: /m);
  expect(working).toMatch(/^spacetime_sync_kafka_consuming 0$/m);
  expect(working).toMatch(/^spacetime_sync_spacetimedb_connected 1$/m);
  expect(reach).toBe(`${brokers} UNREACHABLE\n`);
  expect(back).toContain(`KAFKA_BROKERS=${brokers}`);
  expect(resumed).toMatch(/^kafka\s+consuming\s/m);
  expect(caughtUp).toMatch(/^partition \S+\/0\s+committed 5\s+end 5\s+lag 0$/m);
  expect(caughtUp).toMatch(/^stream orders:5\s+appended 5\s+seen 5\s+lag 0$/m);
  expect(caughtUp).toMatch(/^orders:5\s+head 5\s/m);
}, 300_000);
