/**
 * runbooks/reshard.md, run as written: three shards (three devhosts), a stream on shard A followed by
 * a desktop client that then goes offline; the runbook moves the stream to shard B between stopping
 * and restarting the service; the client resumes with the new routing and gets every event after its
 * watermark exactly once — the copied ones and those written on B after the switch — while the old
 * shard's copy is gone and its epoch moved.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import type { Devhost } from '@spacetime-sync/devhost';
import { afterAll, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import { readStreamRows } from '../../cli/shard-move/stream-rows.js';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import { type ShardEndpoint, ShardedSyncClient } from '../../client/sharded-client.js';
import { IngestService } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { shardTokenVariable } from '../../shared/shards/config.js';
import { readMovesFile } from '../../shared/shards/moves-file.js';
import { type ShardMove, shardFor, shardMap } from '../../shared/shards/route.js';
import { authedTransport, tokenFileEnv } from '../support/auth.js';
import { connect, SYNC_DB, startSyncDevhost } from '../support/devhost-harness.js';
import { syncEnvelope as envelope } from '../support/envelopes.js';
import { explain, runRunbook } from '../support/runbook.js';
import { startTestService } from '../support/service-harness.js';

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const s of stops.reverse()) await s();
});

it('reshard.md: a stream moved between shards reaches a resuming client without loss or repeat', async () => {
  const names = ['shard-0', 'shard-1', 'shard-2'];
  const hosts: Devhost[] = [];
  for (const _ of names) {
    const d = await startSyncDevhost();
    stops.push(() => d.stop());
    hosts.push(d);
  }
  const endpoints: ShardEndpoint[] = names.map((name, i) => ({
    name,
    uri: (hosts[i] as Devhost).url,
    database: SYNC_DB,
    token: (hosts[i] as Devhost).ownerToken,
  }));
  const spacetime = { kind: 'sharded' as const, shards: endpoints };
  const stream = Array.from({ length: 50 }, (_, i) => `orders:${i}`).find(
    (s) => shardFor(shardMap(names), s) === 'shard-0',
  ) as string;
  const to = 'shard-2';
  const movesFile = join(mkdtempSync(join(tmpdir(), 'reshard-')), 'moves.json');

  let service: RunningService = await startTestService({ spacetime });
  const first = service;
  stops.push(() => first.stop());
  const publish = (svc: RunningService, from: number, n: number) =>
    createClient(IngestService, authedTransport(svc.httpUrl)).publish({
      envelopes: Array.from({ length: n }, (_, i) =>
        envelope(stream, `k${from + i}`, `e${from + i}`, BigInt(from + i)),
      ),
    });
  await publish(service, 1, 5);

  // A desktop client follows the stream, then goes offline at seq 5.
  const store = new MemoryCursorStore();
  const got: bigint[] = [];
  const rebootstraps: string[] = [];
  const follow = (moves: readonly ShardMove[]) =>
    ShardedSyncClient.open([stream], {
      shards: endpoints,
      moves,
      clientId: 'reshard-client',
      store,
      onEvent: (_s, e) => {
        got.push(e.seq);
      },
      onRebootstrap: (info) => {
        rebootstraps.push(info.reason.kind);
      },
    });
  let client = await follow([]);
  await expect.poll(() => got.length, { timeout: 30_000 }).toBe(5);
  await expect.poll(async () => (await store.load(stream))?.watermark, { timeout: 30_000 }).toBe(5n);
  await client.close();
  await publish(service, 6, 2); // while the client is offline

  const operator = await tokenFileEnv({ roles: ['operator'] });
  const env = {
    SPACETIMEDB_SHARDS: endpoints.map((e) => `${e.name}=${e.uri}/${e.database}`).join(','),
    ...Object.fromEntries(endpoints.map((e) => [shardTokenVariable(e.name), e.token as string])),
    SPACETIMEDB_SHARD_MOVES_FILE: movesFile,
    STREAM: stream,
    TO: to,
    ...operator,
  };
  const results = await runRunbook(
    'reshard.md',
    { ...env, SPACETIME_SYNC_URL: service.httpUrl },
    {
      before: {
        '4. Move it': async () => {
          await service.stop(); // step 3: the adapters are stopped
        },
        '6. Confirm': async () => {
          // Step 5: the adapter starts again with the moves file.
          // On the address it had, which the runbook's SPACETIME_SYNC_URL names.
          const again = await startTestService({
            spacetime,
            shardMoves: readMovesFile(movesFile),
            ingestPort: Number(new URL(first.httpUrl).port),
          });
          stops.push(() => again.stop());
          service = again;
          // After the switch, writes go to shard-2 and continue its seqs.
          const after = await publish(service, 8, 3);
          expect(after.results.map((r) => r.seq)).toEqual([8n, 9n, 10n]);
        },
      },
    },
  );
  expect(
    results.map((r) => r.code),
    explain(results),
  ).toEqual([0, 0, 0, 0]);
  const [where, plan, moved, confirm] = results.map((r) => r.out);
  expect(where).toBe(`${stream}\tshard-0\n`);
  expect(plan).toMatch(
    new RegExp(`^plan: move ${stream} from shard-0 to shard-2: copy 7 of 7 events, switch at seq 8`),
  );
  expect(moved).toMatch(/^copied 7 events .* to shard-2/m);
  expect(moved).toMatch(/^parity: shard-2 holds the same 7 events/m);
  expect(moved).toMatch(new RegExp(`^switched: ${stream} routes to shard-2 from seq 8`, 'm'));
  expect(moved).toMatch(/^reset .* on shard-0: epoch 1 -> 2/m);
  expect(readMovesFile(movesFile)).toEqual([{ stream, from: 'shard-0', to, atSeq: 8n }]);
  // The service answers the head from the new shard: the copied 7 and the 3 written there since.
  expect(confirm).toMatch(new RegExp(`^${stream}\\tshard-2$`, 'm'));
  expect(confirm).toMatch(new RegExp(`^${stream}\\s+head 10\\s+low watermark 1\\s+epoch 1\\s`, 'm'));

  // The client resumes with the moves: seqs 6-10 exactly once, no rebootstrap.
  client = await follow(readMovesFile(movesFile));
  stops.push(() => client.close());
  await expect.poll(() => got, { timeout: 30_000 }).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
  expect(rebootstraps).toEqual([]);
  // The old shard keeps no copy, and its epoch moved for clients that still read it.
  const old = await connect(hosts[0] as Devhost, (hosts[0] as Devhost).ownerToken);
  const rows = await readStreamRows(old.conn, stream);
  old.conn.disconnect();
  expect(rows?.events).toEqual([]);
  expect(rows?.epoch).toBe(2n);
  expect(rows?.head).toBe(7n);
}, 180_000);
