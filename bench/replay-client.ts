/**
 * The reader of the replay-at-scale case (scale.bench.ts), in its own process as a desktop client
 * is: it does not share the host's event loop, so the host evaluating a window and the client
 * decoding and applying another can run at the same time (on the machine's second core). Forked
 * with IPC; each `{ cmd: 'replay', uri, database, token, stream, clientId, expected }` opens a
 * SyncClient with the client's defaults from watermark 0, waits until live, closes it and answers
 * `{ ms, applied, peak, cpuUs }`: the time until live, the events applied, the most rows the SDK
 * held (sampled every 1,000 events and at the end) and the CPU this process used for it.
 * `BENCH_REPLAY_CLIENT_PROF=dir` (set by the parent) writes this process's CPU profile there.
 */
import { setGlobalLogLevel } from 'spacetimedb';
import { type ReplayAnswer, replayUntilLive } from './replay-reader.js';

setGlobalLogLevel('warn');

interface Replay {
  cmd: 'replay';
  uri: string;
  database: string;
  token: string;
  stream: string;
  clientId: string;
  expected: number;
}

async function replay(c: Replay): Promise<ReplayAnswer> {
  const r = await replayUntilLive(c);
  if (r.applied !== c.expected) throw new Error(`replayed ${r.applied} of ${c.expected}`);
  return r;
}

process.on('message', (m: Replay) => {
  replay(m).then(
    (r) => process.send?.(r),
    (e: unknown) => process.send?.({ error: e instanceof Error ? e.message : String(e) }),
  );
});
// The parent disconnecting is the end of the run (a CPU profile is written on a normal exit).
process.on('disconnect', () => process.exit(0));
