/**
 * The subscribers of the fan-out-at-scale case (scale.bench.ts), in their own process so they do not
 * share the host's event loop (clients run on the same machine, not in the host). Forked with IPC:
 *
 *  1. `{ cmd: 'connect', uri, database, count }` → connects `count` anonymous identities and answers
 *     `{ identities: string[] }` (the parent grants each the stream);
 *  2. `{ cmd: 'follow', stream }` → opens one SyncClient per identity on the stream, answers `{ live: true }`
 *     once every one is live;
 *  3. `{ cmd: 'stats', since, expected, waitMs }` → waits (at most `waitMs`) until every client got the
 *     `expected` events produced at or after `since`, then answers the sorted latencies of those
 *     deliveries (produced_at, stamped by the publisher with the same clock, → the client's `onEvent`),
 *     every delivery's count and the CPU this process used since live (the parent merges processes).
 */
import { MemoryCursorStore } from '../client/cursor-store.js';
import { SyncClient } from '../client/sync-client.js';
import { connect } from '../test/support/devhost-harness.js';

type Command =
  | { cmd: 'connect'; uri: string; database: string; count: number }
  | { cmd: 'follow'; stream: string }
  | { cmd: 'stats'; since: number; expected: number; waitMs: number };

/** Wall-clock milliseconds with sub-millisecond resolution, the same clock in every process. */
import { setGlobalLogLevel } from 'spacetimedb';

setGlobalLogLevel('warn');
const nowMs = (): number => performance.timeOrigin + performance.now();

const send = (msg: unknown) => process.send?.(msg);
let target: { uri: string; database: string } | undefined;
const tokens: string[] = [];
const clients: SyncClient[] = [];
/** Every delivery: when its event was produced and its latency (ms); per client, its deliveries. */
const produced: number[] = [];
const latencies: number[] = [];
const perClient: number[][] = [];
/** CPU this process used since every client was live: its cost per delivery is the clients' share. */
let cpuAtLive: NodeJS.CpuUsage | undefined;

async function onCommand(c: Command): Promise<void> {
  if (c.cmd === 'connect') {
    target = { uri: c.uri, database: c.database };
    const identities: string[] = [];
    for (let i = 0; i < c.count; i++) {
      const conn = await connect({ url: c.uri }, undefined, c.database);
      tokens.push(conn.token);
      identities.push(conn.identityHex);
      conn.conn.disconnect();
    }
    send({ identities });
    return;
  }
  if (c.cmd === 'follow') {
    if (!target) throw new Error('follow before connect');
    for (const [i, token] of tokens.entries()) {
      const mine: number[] = [];
      perClient.push(mine);
      const client = await SyncClient.open([c.stream], {
        uri: target.uri,
        database: target.database,
        token,
        clientId: `fanout-${i}`,
        store: new MemoryCursorStore(),
        onEvent: (_s, e) => {
          const at = Number(e.producedAt.microsSinceUnixEpoch) / 1000;
          produced.push(at);
          latencies.push(nowMs() - at);
          mine.push(at);
        },
      });
      clients.push(client);
    }
    await Promise.all(clients.map((cl) => cl.waitLive(120_000)));
    cpuAtLive = process.cpuUsage();
    produced.length = 0;
    latencies.length = 0;
    for (const mine of perClient) mine.length = 0;
    send({ live: true });
    return;
  }
  // stats: the deliveries of events produced from `since` on (earlier ones were the warm-up).
  const got = (mine: number[]) => mine.reduce((n, at) => (at >= c.since ? n + 1 : n), 0);
  const deadline = nowMs() + c.waitMs;
  while (perClient.some((mine) => got(mine) < c.expected) && nowMs() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const sorted = latencies.filter((_, i) => (produced[i] as number) >= c.since).sort((a, b) => a - b);
  const cpu = process.cpuUsage(cpuAtLive);
  // Raw latencies: the parent merges several followers' processes before taking percentiles.
  send({ cpuUs: cpu.user + cpu.system, deliveries: produced.length, latencies: sorted });
}

process.on('message', (c: Command) => {
  onCommand(c).catch((e: unknown) => {
    send({ error: String(e) });
  });
});
process.on('disconnect', () => {
  void Promise.all(clients.map((c) => c.close())).finally(() => process.exit(0));
});
