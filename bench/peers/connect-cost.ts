/**
 * `node --import tsx bench/peers/connect-cost.ts`: what one websocket connection costs devhost, the
 * host's side of bench:peers' "recover 250 missed". Starts devhost in this process with the sync
 * module, a granted reader (a devhost-minted token, as bench:peers' follower has), then opens
 * CONNECT_N sockets one after another with that token in the upgrade's Authorization header (a raw
 * `ws` client: no SDK), each until `InitialConnection` arrived and then until it closed again, and
 * prints the p50/p90 of both. CONNECT_SUBSCRIBE=1 also sends, with the upgrade, the two subscriptions
 * the client's recovery sends (the stream row + live table, then a window of CONNECT_MISSED events)
 * and waits for both answers. Prints the CPU time per connection too (this process: devhost and the
 * client), which a loaded machine disturbs less than the wall time. CONNECT_PROF=<dir> writes a CPU profile of the measured connections (the
 * client's side is in it too: one process).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BinaryWriter, Identity, setGlobalLogLevel } from 'spacetimedb';
import WebSocket from 'ws';
// biome-ignore lint/style/noRestrictedImports: a bench of devhost's own per-connection cost speaks its wire protocol raw
import { V2_PROTOCOL } from '../../devhost/server/framing.js';
// biome-ignore lint/style/noRestrictedImports: as above (the v2 client messages, encoded as the SDK does)
import { ClientMessage } from '../../devhost/stdb-internal/client-api.js';
import { connect, SYNC_DB, startSyncDevhost } from '../../test/support/devhost-harness.js';
import { eventInput } from '../../test/support/sync-events.js';
import { percentile } from '../harness.js';

const N = Number(process.env.CONNECT_N ?? 400);
const WARMUP = Number(process.env.CONNECT_WARMUP ?? 50);
const SUBSCRIBE = process.env.CONNECT_SUBSCRIBE === '1';
const MISSED = Number(process.env.CONNECT_MISSED ?? 250);
/** Streams granted to the reader besides the one it reads (a grant table that is not tiny). */
const GRANTS = Number(process.env.CONNECT_GRANTS ?? 20);

/** A directory: a CPU profile of the measured connections only (not the start or the warm-up) goes there. */
const PROFILE = process.env.CONNECT_PROF;

async function startProfile(): Promise<{ stop(): Promise<string> }> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      session.disconnect();
      mkdirSync(PROFILE as string, { recursive: true });
      const file = join(PROFILE as string, `connect-cost-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      return file;
    },
  };
}

setGlobalLogLevel('warn');
const devhost = await startSyncDevhost();
const owner = await connect(devhost, devhost.ownerToken);
const reader = await connect(devhost);
const readerId = Identity.fromString(reader.identityHex);
const stream = 'cost-0';
for (let i = 0; i < GRANTS; i++)
  await owner.conn.reducers.grantStreamRead({ reader: readerId, streamId: `cost-${i}` });
// MISSED events in the stream the reader subscribes to, appended by the owner (a writer), 250 B each.
for (let i = 0; SUBSCRIBE && i < MISSED; i += 100) {
  const events = Array.from({ length: Math.min(100, MISSED - i) }, (_, j) =>
    eventInput(stream, `k${i + j}`, { kind: 'bench.v1', body: `{"v":"${'x'.repeat(240)}"}` }),
  );
  await owner.conn.reducers.appendSyncEvents({ events, cursor: undefined });
}

/** The client's two `Subscribe` messages, one v2 frame each (the BSATN the SDK sends). */
function subscribeFrames(): Buffer[] {
  const queries: [number, string[]][] = [
    [
      1,
      [
        `SELECT * FROM sync_stream WHERE stream_id = '${stream}'`,
        `SELECT * FROM sync_event_live WHERE stream_id = '${stream}'`,
      ],
    ],
    [2, [`SELECT * FROM sync_event WHERE stream_id = '${stream}' AND seq > 0 AND seq <= ${MISSED}`]],
  ];
  return queries.map(([id, queryStrings]) => {
    const w = new BinaryWriter(1024);
    ClientMessage.serialize(w, {
      tag: 'Subscribe',
      value: { requestId: id, querySetId: { id }, queryStrings },
    });
    return Buffer.from(w.getBuffer());
  });
}
const frames = SUBSCRIBE ? subscribeFrames() : [];

const url = `${devhost.url.replace(/^http/, 'ws')}/v1/database/${SYNC_DB}/subscribe?compression=None`;

async function once(): Promise<{ initial: number; answered: number; closed: number }> {
  const t0 = performance.now();
  const ws = new WebSocket(url, V2_PROTOCOL, { headers: { authorization: `Bearer ${reader.token}` } });
  let initial = 0;
  let answered = 0;
  await new Promise<void>((resolve, reject) => {
    let n = 0;
    ws.on('open', () => {
      for (const f of frames) ws.send(f);
    });
    ws.on('message', () => {
      n++;
      if (n === 1) initial = performance.now() - t0;
      if (n === 1 + frames.length) {
        answered = performance.now() - t0;
        resolve();
      }
    });
    ws.on('error', reject);
  });
  const c0 = performance.now();
  await new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.close();
  });
  return { initial, answered, closed: performance.now() - c0 };
}

for (let i = 0; i < WARMUP; i++) await once();
const runs: { initial: number; answered: number; closed: number }[] = [];
const profiler = PROFILE ? await startProfile() : undefined;
const t = performance.now();
const cpu0 = process.cpuUsage();
for (let i = 0; i < N; i++) runs.push(await once());
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t;
if (profiler) console.log(`CPU profile of the measured connections: ${await profiler.stop()}`);
const p = (xs: number[], q: number) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    q,
  ).toFixed(3);
const col = (k: 'initial' | 'answered' | 'closed') => runs.map((r) => r[k]);
console.log(
  `connections: ${N} (after ${WARMUP} unrecorded), ${SUBSCRIBE ? `with both subscriptions of a ${MISSED}-event recovery` : 'connect only'}, reader holds ${GRANTS} grants`,
);
console.log(`upgrade → InitialConnection: p50 ${p(col('initial'), 50)} ms, p90 ${p(col('initial'), 90)} ms`);
if (SUBSCRIBE)
  console.log(
    `upgrade → both SubscribeApplied: p50 ${p(col('answered'), 50)} ms, p90 ${p(col('answered'), 90)} ms`,
  );
console.log(`close → closed: p50 ${p(col('closed'), 50)} ms, p90 ${p(col('closed'), 90)} ms`);
console.log(`wall per connection (incl. close): ${(wall / N).toFixed(3)} ms`);
// CPU of this process (devhost and the raw client) per connection: steadier than wall time on a busy machine.
console.log(
  `CPU per connection (incl. close, client and host): ${((cpu.user + cpu.system) / 1000 / N).toFixed(3)} ms`,
);
owner.conn.disconnect();
reader.conn.disconnect();
await devhost.stop();
