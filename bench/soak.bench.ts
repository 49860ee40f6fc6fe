/**
 * `npm run bench -- soak` (not in CI, and only when the filter names it): the adapter and devhost as
 * two separate processes of the compiled CLI (`spacetime-sync devhost --data …` with the default group
 * fsync, `spacetime-sync start` against it), Kafka → committed at half the measured maximum for
 * `SOAK_MINUTES` (default 10), sampling each process's RSS every 5 s. The first fifth of the soak is
 * the warm-up; the figure is each process's RSS growth from the end of the warm-up to the end.
 *
 * The maximum is measured first in the same run: a backlog of `SOAK_CALIBRATE_EVENTS` (default
 * 20,000) produced at once, the rate at which the adapter commits it. `SOAK_RATE` overrides it.
 *
 * `SOAK_KEEP=N` gives every soak stream a retention of N events after the calibration (the module's
 * maintenance timer then compacts each stream every 5 s): without it devhost's RSS grows by the
 * history it retains, which tells nothing about a leak; with it, the history is bounded and any
 * growth left is the host's own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { type Connected, connect, SYNC_DB, subscribe } from '../test/support/devhost-harness.js';
import { freePort } from '../test/support/free-port.js';
import { acquireBroker, brokerList, releaseBroker } from './adapter.bench.js';
import type { BenchCase } from './harness.js';
import { envelopeSource } from './kafka-envelopes.js';

const { Kafka, logLevel } = kafkajs;
const ROOT = new URL('../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/spacetime-sync.js');
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const KEEP = BigInt(process.env.SOAK_KEEP ?? 0);
const CALIBRATE = Number(process.env.SOAK_CALIBRATE_EVENTS ?? 20_000);
const STREAMS = 32;
const TICK_MS = 100;
const SAMPLE_MS = 5_000;
const WARMUP_SHARE = 0.2;
const MAX_GROWTH_PCT = 10;

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 120_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Resident set size of a child in MiB (Linux /proc); a child gone mid-soak ends the case, named. */
function rssMiB(child: ChildProcess | undefined, name: string): number {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null)
    throw new Error(`${name} exited during the soak (code ${child?.exitCode}, signal ${child?.signalCode})`);
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Sample {
  readonly atS: number;
  readonly adapter: number;
  readonly devhost: number;
}

function soakCase(): BenchCase {
  let dir = '';
  let devhost: ChildProcess | undefined;
  let adapter: ChildProcess | undefined;
  let owner: Connected | undefined;
  let producer: kafkajs.Producer | undefined;
  const topic = `soak-${Date.now()}`;
  const next = envelopeSource('soak', STREAMS, 'soak');
  let produced = 0;
  let maxRate = 0;
  let rate = 0;
  const samples: Sample[] = [];
  let committedAtEnd = 0;

  // Events committed so far: the sum of the soak streams' heads (a small table the owner follows).
  const committed = () => {
    let sum = 0;
    for (const s of owner?.conn.db.syncStream.iter() ?? [])
      if (s.streamId.startsWith('soak:')) sum += Number(s.headSeq);
    return sum;
  };
  const send = async (count: number) => {
    const messages = next(count);
    produced += count;
    for (let i = 0; i < messages.length; i += 1000)
      await producer?.send({ topic, messages: messages.slice(i, i + 1000) });
  };
  const waitCommitted = (n: number, ms: number) =>
    until(`${n} committed events`, () => (committed() >= n ? true : undefined), ms).catch(() => false);

  const growth = (pick: (s: Sample) => number) => {
    const warm = samples.find((s) => s.atS >= MINUTES * 60 * WARMUP_SHARE);
    const last = samples.at(-1);
    if (!warm || !last) return Number.NaN;
    return (100 * (pick(last) - pick(warm))) / pick(warm);
  };
  const metrics = () => {
    const a = growth((s) => s.adapter);
    const d = growth((s) => s.devhost);
    return {
      adapterRssGrowthPct: a,
      devhostRssGrowthPct: d,
      rssGrowthPct: Math.max(a, d),
      maxRate,
      soakRate: rate,
      committedShare: produced === 0 ? 0 : committedAtEnd / produced,
    };
  };

  return {
    name: `soak: adapter Kafka → committed and durable at half the measured maximum for ${fmt(MINUTES, 2)} min, RSS of the adapter and of devhost (two processes; data dir, group-commit fsync; ${KEEP > 0n ? `retention: the newest ${fmt(Number(KEEP))} events per stream` : 'no retention: devhost keeps the whole history'})`,
    once: true,
    // Read after the run: the events the soak itself produced (the calibration backlog apart).
    get opsPerRun() {
      return Math.max(1, produced - CALIBRATE);
    },
    target: {
      text: `RSS growth after warm-up ≤ ${MAX_GROWTH_PCT} % (both processes)`,
      maxMetric: { name: 'rssGrowthPct', value: MAX_GROWTH_PCT },
    },
    setup: async () => {
      if (!existsSync(join(ROOT, 'dist/cli.js')))
        throw new Error('soak runs the compiled CLI: npm run build first');
      await acquireBroker();
      dir = mkdtempSync(join(tmpdir(), 'bench-soak-'));
      const admin = new Kafka({ brokers: brokerList(), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic, numPartitions: 3 }, { topic: `${topic}-dlq` }],
        waitForLeaders: true,
      });
      await admin.disconnect();
      const port = await freePort();
      const tokenFile = join(dir, 'owner.token');
      devhost = spawn(
        process.execPath,
        [
          CLI,
          'devhost',
          '--module',
          join(ROOT, 'module/src/index.ts'),
          '--name',
          SYNC_DB,
          '--port',
          String(port),
          '--data',
          join(dir, 'devhost'),
          '--owner-token-file',
          tokenFile,
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      const token = await until('devhost', () =>
        existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() || undefined : undefined,
      );
      const uri = `ws://127.0.0.1:${port}`;
      owner = await until('devhost socket', () => connect({ url: uri }, token));
      await subscribe(owner.conn, ['SELECT * FROM sync_stream']);
      const state = join(dir, 'state');
      adapter = spawn(process.execPath, [CLI, 'start'], {
        // The owner token by environment, never on a command line.
        env: {
          ...process.env,
          SPACETIME_SYNC_STATE_DIR: state,
          SPACETIMEDB_URI: uri,
          SPACETIMEDB_DB: SYNC_DB,
          SPACETIMEDB_TOKEN: token,
          KAFKA_BROKERS: brokerList().join(','),
          KAFKA_TOPICS: topic,
          KAFKA_GROUP_ID: `${topic}-group`,
          KAFKA_DEAD_LETTER_TOPIC: `${topic}-dlq`,
          INGEST_PORT: String(await freePort()),
          LOG_LEVEL: 'warn',
          PROBE_INTERVAL_MS: '0',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      await until('the adapter', async () => {
        const info = JSON.parse(readFileSync(join(state, 'local.json'), 'utf8')) as { url: string };
        return (await fetch(`${info.url}/readyz`)).ok ? true : undefined;
      });
      producer = new Kafka({ brokers: brokerList(), logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      // The maximum: a backlog produced at once, committed as fast as the adapter can.
      const t0 = performance.now();
      await send(CALIBRATE);
      if (!(await waitCommitted(produced, 600_000))) throw new Error('calibration backlog never committed');
      maxRate = CALIBRATE / ((performance.now() - t0) / 1000);
      rate = Number(process.env.SOAK_RATE ?? maxRate / 2);
      if (KEEP > 0n && owner)
        for (let i = 0; i < STREAMS; i++)
          await owner.conn.reducers.configureStream({
            streamId: `soak:${i}`,
            retainMinEvents: KEEP,
            compactByKey: false,
          });
    },
    teardown: async () => {
      await producer?.disconnect();
      owner?.conn.disconnect();
      await stopChild(adapter);
      await stopChild(devhost);
      if (dir) rmSync(dir, { recursive: true, force: true });
      await releaseBroker();
    },
    run: async () => {
      const t0 = performance.now();
      const end = t0 + MINUTES * 60_000;
      let due = 0;
      let nextSample = t0;
      for (let tick = t0; tick < end; tick += TICK_MS) {
        due += (rate * TICK_MS) / 1000;
        const count = Math.floor(due);
        due -= count;
        if (count > 0) await send(count);
        const now = performance.now();
        if (now >= nextSample) {
          samples.push({
            atS: (now - t0) / 1000,
            adapter: rssMiB(adapter, 'the adapter'),
            devhost: rssMiB(devhost, 'devhost'),
          });
          nextSample += SAMPLE_MS;
        }
        const wait = tick + TICK_MS - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await waitCommitted(produced, 60_000);
      committedAtEnd = committed();
      samples.push({
        atS: (performance.now() - t0) / 1000,
        adapter: rssMiB(adapter, 'the adapter'),
        devhost: rssMiB(devhost, 'devhost'),
      });
    },
    metrics,
    report: () => {
      const m = metrics();
      const warm = samples.find((s) => s.atS >= MINUTES * 60 * WARMUP_SHARE);
      const last = samples.at(-1);
      const peak = (pick: (s: Sample) => number) => Math.max(...samples.map(pick));
      return [
        `maximum (a ${fmt(CALIBRATE)}-event backlog) ${fmt(maxRate)} ev/s; soaked at ${fmt(rate)} ev/s for ${fmt(MINUTES, 2)} min: ${fmt(produced)} produced, ${fmt(committedAtEnd)} committed (${(100 * m.committedShare).toFixed(1)} %)`,
        `RSS after warm-up (${fmt(MINUTES * 60 * WARMUP_SHARE)} s) → end, peak: adapter ${fmt(warm?.adapter ?? Number.NaN, 1)} → ${fmt(last?.adapter ?? Number.NaN, 1)} MiB (${m.adapterRssGrowthPct.toFixed(1)} %), peak ${fmt(
          peak((s) => s.adapter),
          1,
        )}; devhost ${fmt(warm?.devhost ?? Number.NaN, 1)} → ${fmt(last?.devhost ?? Number.NaN, 1)} MiB (${m.devhostRssGrowthPct.toFixed(1)} %), peak ${fmt(
          peak((s) => s.devhost),
          1,
        )}`,
        `RSS samples (s: adapter/devhost MiB): ${samples
          .filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0)
          .map((s) => `${fmt(s.atS)}: ${fmt(s.adapter)}/${fmt(s.devhost)}`)
          .join(', ')}`,
      ];
    },
  };
}

export default function suite(): BenchCase[] {
  // Ten minutes by default: only when asked for by name (`npm run bench -- soak`).
  return /soak/.test(process.argv[2] ?? '') ? [soakCase()] : [];
}
