/**
 * One replay of the replay-at-scale case (scale.bench.ts): a SyncClient with the client's defaults
 * from watermark 0 until live. Shared by the reader in its own process (replay-client.ts) and the
 * in-process variant (BENCH_REPLAY_INPROC=1), so both measure exactly the same thing: the time
 * until live, the events applied, the most rows the SDK held (sampled every 1,000 events and at
 * the end) and the CPU this process used for it.
 */
import { MemoryCursorStore } from '../client/cursor-store.js';
import { SyncClient } from '../client/sync-client.js';

export interface ReplayTarget {
  readonly uri: string;
  readonly database: string;
  readonly token: string;
  readonly stream: string;
  readonly clientId: string;
}

export interface ReplayAnswer {
  ms: number;
  applied: number;
  peak: number;
  cpuUs: number;
}

export async function replayUntilLive(t: ReplayTarget): Promise<ReplayAnswer> {
  let applied = 0;
  let peak = 0;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const client: SyncClient = await SyncClient.open([t.stream], {
    uri: t.uri,
    database: t.database,
    token: t.token,
    clientId: t.clientId,
    store: new MemoryCursorStore(),
    onEvent: () => {
      applied++;
      if (applied % 1_000 === 0) peak = Math.max(peak, client.cachedEventCount);
    },
  });
  await client.waitLive(600_000);
  const ms = performance.now() - t0;
  peak = Math.max(peak, client.cachedEventCount);
  await client.close();
  const used = process.cpuUsage(cpu);
  return { ms, applied, peak, cpuUs: used.user + used.system };
}
