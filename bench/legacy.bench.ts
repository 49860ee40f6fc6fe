/**
 * The legacy lane's replay rate beside ours: the same number of events, the same payload size, read
 * from watermark 0 until the subscribe reply, by the project's legacy client from the reference server
 * (journal in a temp directory, over a real socket; every batch arrives twice and is deduplicated).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LegacyLaneClient } from '../legacy/client/index.js';
import { type LegacyLane, mintToken, parseKeyring, startLegacyLane } from '../legacy/index.js';
import type { BenchCase } from './harness.ts';

const REPLAY = Number(process.env.BENCH_REPLAY_EVENTS ?? 100_000);
const TOPIC = 'runtime.codex_worker_events';
const OURS = `client: replay ${REPLAY.toLocaleString('en-US')} events from watermark 0 until live, as granted reader`;
const keyring = parseKeyring('bench=0123456789abcdef0123456789abcdef0123', 'bench');

export default function suite(): BenchCase[] {
  let dir = '';
  let lane: LegacyLane;
  let token = '';
  let duplicates = 0;
  return [
    {
      name: `legacy lane: replay ${REPLAY.toLocaleString('en-US')} events from watermark 0 until the subscribe reply (reference server)`,
      compareTo: OURS,
      opsPerRun: REPLAY,
      report: () => [
        `each event arrived twice (update_batch + frame); duplicates dropped per run ${duplicates.toLocaleString('en-US')}`,
      ],
      setup: async () => {
        dir = await mkdtemp(join(tmpdir(), 'legacy-bench-'));
        lane = await startLegacyLane({ dataDir: dir, keyring, logger: pino({ level: 'silent' }) });
        for (let i = 0; i < REPLAY; i += 5_000) {
          await lane.journal.append(
            Array.from({ length: Math.min(5_000, REPLAY - i) }, (_, j) => {
              const key = `r${i + j}`;
              return {
                topic: TOPIC,
                docKey: `runtime/codex_worker_event:w1:${i + j + 1}`,
                docVersion: i + j + 1,
                payload: { k: key, v: 'x'.repeat(100) },
                streamId: 'replay',
                idempotencyKey: key,
              };
            }),
          );
        }
        token = await mintToken(keyring, { topics: [TOPIC], ttlSeconds: 3_600 });
      },
      teardown: async () => {
        await lane.stop();
        await rm(dir, { recursive: true, force: true });
      },
      run: async () => {
        let applied = 0;
        const client = await LegacyLaneClient.connect({
          url: lane.url,
          token,
          heartbeatMs: 0,
          verifyHashes: false,
          onUpdate: () => applied++,
        });
        // No resume_after entry: the lane replays the whole topic with no budget check (fact sheet §7).
        await client.subscribe([TOPIC]);
        duplicates = client.stats().duplicates;
        await client.close();
        if (applied !== REPLAY) throw new Error(`replayed ${applied} of ${REPLAY}`);
      },
    },
  ];
}
