/**
 * runbooks/rebootstrap-storm.md, run as written: a desktop client is acknowledged far behind on a
 * dozen streams whose retention keeps only 2 events, compaction drops history it still points into,
 * and every stream changes epoch. The runbook shows where, tells retention from a reset, and raises
 * retention with its own command.
 */
import { afterAll, expect, it } from 'vitest';
import { tokenFileEnv } from '../support/auth.js';
import { cliEnv, runCli } from '../support/cli.js';
import { connect, SYNC_DB, startSyncDevhost, subscribe } from '../support/devhost-harness.js';
import { explain, runRunbook } from '../support/runbook.js';
import { runbookStack } from './testing/stack.js';

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const s of stops.reverse()) await s();
});

const STREAMS = Array.from({ length: 12 }, (_, i) => `orders:${i + 1}`);

it('rebootstrap-storm.md: a dozen epoch changes by retention found, explained and stopped', async () => {
  const devhost = await startSyncDevhost();
  stops.push(() => devhost.stop());
  const stack = await runbookStack({ devhost, token: devhost.ownerToken });
  stops.push(() => stack.service.stop());
  for (const s of STREAMS) await stack.produce(s, 5);
  await expect
    .poll(() => STREAMS.filter((s) => stack.service.writer.streams().get(s)?.head === 5n).length, {
      timeout: 60_000,
    })
    .toBe(STREAMS.length);

  // A desktop client acknowledged seq 1 everywhere; an operator set retention to 2 events; compaction runs.
  const owner = await connect(devhost, devhost.ownerToken);
  try {
    for (const streamId of STREAMS) {
      await owner.conn.reducers.ackCheckpoint({ clientId: 'laptop-7', streamId, ackedSeq: 1n, epoch: 1n });
      await owner.conn.reducers.configureStream({ streamId, retainMinEvents: 2n, compactByKey: false });
      await owner.conn.reducers.compactStream({ streamId });
    }
    await subscribe(owner.conn, ['SELECT * FROM sync_stream']);
    expect(STREAMS.map((s) => owner.conn.db.syncStream.streamId.find(s)?.epoch)).toEqual(
      STREAMS.map(() => 2n),
    );
  } finally {
    owner.conn.disconnect();
  }
  await expect
    .poll(() => STREAMS.filter((s) => stack.service.writer.streams().get(s)?.epoch === 2n).length, {
      timeout: 30_000,
    })
    .toBe(STREAMS.length);

  const env = {
    SPACETIME_SYNC_URL: stack.service.httpUrl,
    ...(await tokenFileEnv({ roles: ['operator'] })),
    STREAM: 'orders:3',
    SPACETIMEDB_URI: devhost.url,
    SPACETIMEDB_DB: SYNC_DB,
    SPACETIMEDB_TOKEN: devhost.ownerToken,
  };
  const results = await runRunbook('rebootstrap-storm.md', env);
  expect(
    results.map((r) => r.code),
    explain(results),
  ).toEqual([0, 0, 0, 0]);
  const [families, head, retention, raised] = results.map((r) => r.out);
  expect(families).toBe('spacetime_sync_stream_epoch_changes_total{family="orders"} 12\n');
  expect(head).toMatch(/^orders:3\s+head 5\s+low watermark 4\s+epoch 2\s/m);
  expect(retention).toBe(
    'orders:3  keep newest 2 events  compact by key no  head 5  low watermark 4  epoch 2\n',
  );
  expect(raised).toBe(
    'orders:3  keep newest 10000 events  compact by key no  head 5  low watermark 4  epoch 2\n',
  );
  expect(stack.service.writer.streams().get('orders:3')?.retainMinEvents).toBe(10000n);

  // The command's own refusals: an unknown stream is exit 1, a bad number exit 2.
  const cli = cliEnv(env);
  expect((await runCli(['retention', 'nope:1'], { env: cli })).code).toBe(1);
  expect((await runCli(['retention', 'orders:3', '--keep', 'lots'], { env: cli })).code).toBe(2);
}, 240_000);
