/**
 * Issue 15's cases at scale, all on devhost with a data dir and the default group fsync (durable):
 *
 * - fan-out: a publisher appends at a fixed rate (default 2,000 events/s in calls of 20 every 10 ms,
 *   open loop: a slow host does not slow the offer) to one stream followed by N granted clients
 *   (default 50, `SyncClient` each, in a child process: bench/fanout-clients.ts). Latency is the
 *   event's produced_at (stamped at the call) → the client's `onEvent`, over every delivery.
 *   `BENCH_FANOUT_CLIENTS`, `BENCH_FANOUT_RATE` shrink it for a smoke run.
 * - replay: `BENCH_SCALE_REPLAY_EVENTS` (default 1,000,000) events read from watermark 0 by a granted
 *   reader with the client's defaults until live, and the most rows the SDK held meanwhile; the
 *   reader runs in its own process (bench/replay-client.ts; `BENCH_REPLAY_INPROC=1`: in this one),
 *   and each run's CPU of both processes is reported. `BENCH_REPLAY_CLIENT_PROF=dir` profiles the
 *   reader's process.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Devhost } from '@spacetime-sync/devhost';
import { Identity, Timestamp } from 'spacetimedb';
import { type Connected, connect, SYNC_DB, startSyncDevhost } from '../test/support/devhost-harness.js';
import { eventInput } from '../test/support/sync-events.js';
import { type BenchCase, percentile } from './harness.js';
import { type ReplayAnswer, replayUntilLive } from './replay-reader.js';

const CLIENTS = Number(process.env.BENCH_FANOUT_CLIENTS ?? 50);
/**
 * Processes the followers are split across (default 1). The "what it would take" variant: with 2 the
 * followers get the second core's worth of event loops instead of one, which shows whether the
 * followers' side or the host bounds the latency. `BENCH_FANOUT_CLIENT_PROF=dir` writes a CPU profile
 * of each followers' process there.
 */
const PROCS = Math.max(1, Number(process.env.BENCH_FANOUT_PROCS ?? 1));
const RATE = Number(process.env.BENCH_FANOUT_RATE ?? 2_000);
const TICK_MS = 10;
const PER_TICK = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
/** More calls in flight than this means the host fell behind by a second: the offer stops growing. */
const MAX_IN_FLIGHT = Math.ceil(1000 / TICK_MS);
const REPLAY = Number(process.env.BENCH_SCALE_REPLAY_EVENTS ?? 1_000_000);
/** "Bounded by default": the client held at most this share of the backlog at once. */
const HELD_BOUND = 0.1;

const nowMs = (): number => performance.timeOrigin + performance.now();
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });

function event(stream: string, key: string, bodyBytes: number) {
  return eventInput(stream, key, {
    kind: 'bench.v1',
    body: `{"k":"${key}","v":"${'x'.repeat(bodyBytes)}"}`,
    sourceTopic: 'bench',
  });
}

interface Durable {
  devhost: Devhost;
  writer: Connected;
  dataDir: string;
}
async function startDurable(): Promise<Durable> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const devhost = await startSyncDevhost(dataDir);
  return { devhost, writer: await connect(devhost, devhost.ownerToken), dataDir };
}
async function stopDurable(d: Durable | undefined): Promise<void> {
  if (!d) return;
  d.writer.conn.disconnect();
  await d.devhost.stop();
  rmSync(d.dataDir, { recursive: true, force: true });
}

/** One request/answer with the subscriber process. */
function ask<T>(child: ChildProcess, msg: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = () => reject(new Error('fan-out clients exited'));
    child.once('exit', onExit);
    child.once('message', (m: T & { error?: string }) => {
      child.off('exit', onExit);
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    child.send(msg);
  });
}

/** What one followers' process measured (bench/fanout-clients.ts `stats`). */
interface FollowerStats {
  deliveries: number;
  /** Every measured delivery's latency, ms, sorted. */
  latencies: number[];
  cpuUs: number;
}

function fanoutCase(): BenchCase {
  let d: Durable | undefined;
  const children: ChildProcess[] = [];
  let n = 0;
  let inFlight = 0;
  let skipped = 0;
  let failed = 0;
  let nextTick = 0;
  let firstTick = 0;
  const publishedAt: number[] = [];
  let stats:
    | {
        deliveries: number;
        p50: number;
        p99: number;
        max: number;
        cpuUsPerDelivery: number;
        hostCpuUsPerDelivery: number;
      }
    | undefined;
  /** The host's (this process's) CPU from the first tick on: devhost, the publisher, the commit log. */
  let hostCpu: NodeJS.CpuUsage | undefined;
  let measuredFrom = 0;
  let expected = 0;
  const seconds = Number(process.env.BENCH_SECONDS ?? '3');

  const collect = async () => {
    if (stats || children.length === 0) return stats;
    // The harness warms up for a quarter of the measured time first: measure what came after it.
    measuredFrom = firstTick + (seconds / 4) * 1000;
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
    const host = process.cpuUsage(hostCpu);
    expected = publishedAt.filter((t) => t >= measuredFrom).length;
    const parts = await Promise.all(
      children.map((c) =>
        ask<FollowerStats>(c, { cmd: 'stats', since: measuredFrom, expected, waitMs: 30_000 }),
      ),
    );
    const sorted = parts.flatMap((p) => p.latencies).sort((a, b) => a - b);
    const cpuUs = parts.reduce((sum, p) => sum + p.cpuUs, 0);
    const all = parts.reduce((sum, p) => sum + p.deliveries, 0);
    stats = {
      deliveries: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
      cpuUsPerDelivery: cpuUs / Math.max(1, all),
      hostCpuUsPerDelivery: (host.user + host.system) / Math.max(1, publishedAt.length * CLIENTS),
    };
    return stats;
  };
  const split = PROCS > 1 ? `, followers split over ${PROCS} processes` : '';

  return {
    name: `devhost: fan-out ${fmt(RATE)} events/s to ${CLIENTS} subscribed clients${split}, append → onEvent (durable: data dir, group-commit fsync; latency below the table)`,
    opsPerRun: PER_TICK,
    target: {
      text: 'p99 ≤ 20 ms at 2,000 ev/s to 50 clients',
      minOpsPerSec: RATE * 0.95,
      maxMetric: { name: 'deliveryP99Ms', value: 20 },
    },
    setup: async () => {
      d = await startDurable();
      const prof = process.env.BENCH_FANOUT_CLIENT_PROF;
      for (let p = 0; p < PROCS; p++) {
        const child = fork(new URL('./fanout-clients.ts', import.meta.url).pathname, [], {
          execArgv: ['--import', 'tsx', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        children.push(child);
        const count = Math.floor(CLIENTS / PROCS) + (p < CLIENTS % PROCS ? 1 : 0);
        const { identities } = await ask<{ identities: string[] }>(child, {
          cmd: 'connect',
          uri: d.devhost.url,
          database: SYNC_DB,
          count,
        });
        for (const hex of identities)
          await d.writer.conn.reducers.grantStreamRead({
            reader: Identity.fromString(hex),
            streamId: 'fanout',
          });
      }
      await Promise.all(children.map((c) => ask(c, { cmd: 'follow', stream: 'fanout' })));
    },
    teardown: async () => {
      await Promise.all(
        children.map((child) => {
          child.disconnect();
          return new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
        }),
      );
      await stopDurable(d);
    },
    run: async () => {
      if (!d) throw new Error('not set up');
      const now = nowMs();
      if (firstTick === 0) {
        firstTick = nextTick = now;
        hostCpu = process.cpuUsage();
      }
      // Open loop: a call per tick whatever the answers do, unless a second's worth is outstanding.
      if (inFlight >= MAX_IN_FLIGHT) skipped++;
      else {
        const at = nowMs();
        const stamp = new Timestamp(BigInt(Math.round(at * 1000)));
        const events = Array.from({ length: PER_TICK }, () => ({
          ...event('fanout', `f${n++}`, 200),
          producedAt: stamp,
        }));
        for (let i = 0; i < PER_TICK; i++) publishedAt.push(at);
        inFlight++;
        d.writer.conn.reducers
          .appendSyncEvents({ events, cursor: undefined })
          .catch(() => failed++)
          .finally(() => inFlight--);
      }
      nextTick += TICK_MS;
      const wait = nextTick - nowMs();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    },
    metrics: async (): Promise<Record<string, number>> => {
      const s = await collect();
      return s
        ? {
            deliveryP50Ms: s.p50,
            deliveryP99Ms: s.p99,
            deliveredShare: expected === 0 ? 0 : s.deliveries / (expected * CLIENTS),
            clientCpuUsPerDelivery: s.cpuUsPerDelivery,
            hostCpuUsPerDelivery: s.hostCpuUsPerDelivery,
          }
        : {};
    },
    report: async () => {
      const s = await collect();
      if (!s) return [];
      return [
        `delivery latency over ${fmt(s.deliveries)} deliveries: p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms; delivered ${((100 * s.deliveries) / Math.max(1, expected * CLIENTS)).toFixed(1)} % of ${fmt(expected)} events × ${CLIENTS} clients; ticks skipped (host a second behind) ${skipped}, calls failed ${failed}`,
        `the ${CLIENTS} clients' ${PROCS > 1 ? `${PROCS} processes` : 'process'} used ${s.cpuUsPerDelivery.toFixed(1)} µs of CPU per delivery (${fmt((s.cpuUsPerDelivery * RATE * CLIENTS) / 1e4)} % of a core at the full rate)`,
        `the host's process (devhost, publisher, commit log) used ${s.hostCpuUsPerDelivery.toFixed(1)} µs of CPU per delivery (${fmt((s.hostCpuUsPerDelivery * RATE * CLIENTS) / 1e4)} % of a core at the full rate)`,
      ];
    },
  };
}

/**
 * Where the replaying client runs: in its own process by default (bench/replay-client.ts), as a
 * desktop client does, or `BENCH_REPLAY_INPROC=1` in this process beside devhost, sharing its event
 * loop (how the case ran before 2026-12-01: host and client work then add up on one thread).
 */
const REPLAY_INPROC = process.env.BENCH_REPLAY_INPROC === '1';

/** One replay by a SyncClient with the client's defaults, in this process. */
function replayHere(d: Durable, token: string, clientId: string): Promise<ReplayAnswer> {
  return replayUntilLive({ uri: d.devhost.url, database: SYNC_DB, token, stream: 'replay', clientId });
}

function replayCase(): BenchCase {
  let d: Durable | undefined;
  let child: ChildProcess | undefined;
  let reader = '';
  let peak = 0;
  let run = 0;
  /** Per measured run: CPU of this process (devhost) and of the client's, both in seconds. */
  const hostCpu: number[] = [];
  const clientCpu: number[] = [];
  const where = REPLAY_INPROC ? 'client in the host’s process' : 'client in its own process';
  return {
    name: `client: replay ${fmt(REPLAY)} events from watermark 0 until live, as granted reader, client defaults, ${where} (durable: data dir, group-commit fsync)`,
    opsPerRun: REPLAY,
    target: {
      text: `until live ≤ 5 s for 1M, rows held ≤ ${HELD_BOUND * 100} % of the backlog`,
      minOpsPerSec: REPLAY / 5,
      maxMetric: { name: 'peakRowsHeld', value: REPLAY * HELD_BOUND },
    },
    setup: async () => {
      d = await startDurable();
      const desk = await connect(d.devhost);
      reader = desk.token;
      await d.writer.conn.reducers.grantStreamRead({
        reader: Identity.fromString(desk.identityHex),
        streamId: 'replay',
      });
      desk.conn.disconnect();
      // Several calls in flight: they share group commits (one in flight waits for each fsync).
      const calls: Promise<void>[] = [];
      for (let i = 0; i < REPLAY; i += 500) {
        const events = Array.from({ length: Math.min(500, REPLAY - i) }, (_, j) =>
          event('replay', `r${i + j}`, 100),
        );
        calls.push(d.writer.conn.reducers.appendSyncEvents({ events, cursor: undefined }));
        if (calls.length >= 8) await calls.shift();
      }
      await Promise.all(calls);
      if (!REPLAY_INPROC) {
        const prof = process.env.BENCH_REPLAY_CLIENT_PROF;
        child = fork(new URL('./replay-client.ts', import.meta.url).pathname, [], {
          execArgv: ['--import', 'tsx', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
      }
    },
    teardown: async () => {
      if (child) {
        const c = child;
        c.disconnect();
        await new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(undefined)));
      }
      await stopDurable(d);
    },
    run: async () => {
      if (!d) throw new Error('not set up');
      const clientId = `scale-replay-${run++}`;
      const cpu = process.cpuUsage();
      const answer = child
        ? await ask<ReplayAnswer>(child, {
            cmd: 'replay',
            uri: d.devhost.url,
            database: SYNC_DB,
            token: reader,
            stream: 'replay',
            clientId,
            expected: REPLAY,
          })
        : await replayHere(d, reader, clientId);
      const here = process.cpuUsage(cpu);
      if (answer.applied !== REPLAY) throw new Error(`replayed ${answer.applied} of ${REPLAY}`);
      peak = Math.max(peak, answer.peak);
      // In one process this process's CPU is the host's and the client's together (`clientCpu` then
      // holds that sum, `hostCpu` stays empty).
      clientCpu.push(answer.cpuUs / 1e6);
      if (child) hostCpu.push((here.user + here.system) / 1e6);
    },
    metrics: () => ({
      peakRowsHeld: peak,
      ...(clientCpu.length > 0 ? { clientCpuSeconds: clientCpu.at(-1) as number } : {}),
      ...(hostCpu.length > 0 ? { hostCpuSeconds: hostCpu.at(-1) as number } : {}),
    }),
    report: () => {
      const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' / ');
      const cpu = child
        ? `CPU per run (warm-up first): devhost's process ${list(hostCpu)} s, the reader's ${list(clientCpu)} s`
        : `CPU per run (warm-up first), devhost and the reader in one process: ${list(clientCpu)} s`;
      return [`peak rows held in the SDK cache ${fmt(peak)} of ${fmt(REPLAY)}`, cpu];
    },
  };
}

export default function suite(): BenchCase[] {
  return [fanoutCase(), replayCase()];
}
