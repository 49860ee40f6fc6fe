import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import type { SyncClient } from '../../client/sync-client.js';
import { subscribe } from '../support/devhost-harness.js';
import {
  append,
  cleanups,
  devhostWithWriter,
  open,
  Recorder,
  range,
  tempDir,
} from './testing/sync-client-fixture.js';

describe('SyncClient model', () => {
  it('under random appends, duplicates, reconnects, devhost restarts, truncations and epoch bumps: each event once, in order, or an explicit rebootstrap', async () => {
    const dataDir = await tempDir();
    let world = await devhostWithWriter(dataDir);
    const port = world.devhost.port;
    cleanups.push(async () => {
      world.writer.conn.disconnect();
      await world.devhost.stop();
    });
    const watchStreams = (w: typeof world) => subscribe(w.writer.conn, ['SELECT * FROM sync_stream']);
    await watchStreams(world);

    const stream = fc.constantFrom('m1', 'm2');
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), stream, key: fc.nat(30) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('toggle' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('truncate' as const),
          stream,
          keep: fc.integer({ min: 1, max: 4 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), stream }) },
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 3, maxLength: 15 }), async (ops) => {
        round++;
        const name = (s: string) => `${s}-r${round}`;
        const store = new MemoryCursorStore();
        const app = new Recorder();
        const streams = [name('m1'), name('m2')];
        const clientId = `model-${round}`;
        // Windows of 2 seqs: every replay in the model goes window by window.
        const reopen = () => open(world.devhost, streams, store, app, clientId, { replayWindow: 2 });
        let client: SyncClient | undefined = await reopen();
        for (const o of ops) {
          const { writer } = world;
          if (o.kind === 'append') {
            // Keys repeat (0..30), so many appends are duplicates the module answers as no-ops.
            await append(writer, name(o.stream), [`k${o.key}`]);
          } else if (o.kind === 'reset') {
            await writer.conn.reducers.resetStream({ streamId: name(o.stream) }).catch(() => {});
          } else if (o.kind === 'truncate') {
            // Retention down to the newest `keep` events, applied now, then switched off again so
            // the maintenance timer cannot move history while the final state is read.
            const streamId = name(o.stream);
            const configure = (n: number) =>
              writer.conn.reducers.configureStream({
                streamId,
                retainMinEvents: BigInt(n),
                compactByKey: false,
              });
            if (
              await configure(o.keep).then(
                () => true,
                () => false,
              )
            ) {
              await writer.conn.reducers.compactStream({ streamId });
              await configure(0);
            }
          } else if (o.kind === 'restart') {
            // The client stays open: it sees the socket drop, backs off and resumes.
            writer.conn.disconnect();
            await world.devhost.stop();
            world = await devhostWithWriter(dataDir, port);
            await watchStreams(world);
          } else if (client) {
            await client.close();
            client = undefined;
          } else {
            client = await reopen();
          }
        }
        client ??= await reopen();
        await client.waitLive();
        for (const s of streams) {
          // Since its last rebootstrap (or from seq 1), the application holds exactly the retained
          // run up to the head: nothing skipped silently at the start, nothing missing at the end.
          const expected = () => {
            const head = world.writer.conn.db.syncStream.stream_id.find(s)?.headSeq ?? 0n;
            const last = app.rebootstraps.filter((r) => r.streamId === s).at(-1);
            const from = last?.lowWatermark ?? 1n;
            return from > head ? [] : range(Number(from), Number(head));
          };
          await expect
            .poll(() => ({ stream: s, got: app.seqs(s), want: expected() }), { timeout: 10_000 })
            .toSatisfy(({ got, want }) => String(got) === String(want));
        }
        expect(app.violations).toEqual([]);
        await client.close();
      }),
      { numRuns: 30 },
    );
  }, 240_000);
});
