/**
 * The adapter as the deployment runs it: the compiled service (`bin/spacetime-sync.js start`) as its
 * own process, Kafka in, its embedded devhost durable (`DEVHOST_DATA_DIR`, the default group-commit fsync),
 * the bench process only producing to Kafka and watching. An event counts once its stream's head
 * covers it (the owner follows `sync_stream` over a socket), and the adapter's answer for it leaves
 * devhost only after the fsync, so the count is "committed and durable".
 *
 * Two shapes, alternated round by round with `DEVHOST_THREAD=worker` and `inline`:
 * - *backlog*: `BENCH_ADAPTER_PROC_BACKLOG` events (default 30,000) produced before the service
 *   starts; the rate is measured from 10 % to 90 % committed (start-up and the uneven tail apart),
 *   then the case waits until every event is committed.
 * - *stream*: like adapter.bench.ts, each run produces 2,000 events and waits until all are
 *   committed; per-event produced→committed latency (committed_at − produced_at) over every event.
 *
 * Options: `BENCH_ADAPTER_PROC_VARIANTS`: the service settings alternated round by round, `;` between
 * variants, `K=V,K=V` in each (default `DEVHOST_THREAD=worker;DEVHOST_THREAD=inline`; an A/B of any
 * knob, e.g. `KAFKA_MAX_BATCH_EVENTS=200;KAFKA_MAX_BATCH_EVENTS=1000`), `BENCH_ADAPTER_PROC_ROUNDS`
 * (default 3), `BENCH_ADAPTER_PROC_SHAPES` (default `backlog,stream`), `BENCH_ADAPTER_PROC_PARTITIONS`
 * (default 3; `PARTITIONS=n` in a variant sets its topic's), `BENCH_ADAPTER_PROC_ENV` (settings for
 * every variant, `K=V,K=V`),
 * `BENCH_ADAPTER_PROC_PROF=dir` (a V8 CPU profile of the service process, every thread, per case).
 * Compared with the durable SDK append to a devhost in its own process (devhost.bench.ts), which the
 * filter `own process` runs in the same invocation. Needs `npm run build` first.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { EMBEDDED_DATABASE } from '../adapter/embedded-devhost.js';
import { cleanEnv, type Proc, startProc } from '../chaos/procs/child.js';
import { type Connected, connect, subscribe } from '../test/support/devhost-harness.js';
import { freePort } from '../test/support/free-port.js';
import { acquireBroker, brokerList, releaseBroker } from './adapter.bench.js';
import { DURABLE_APPEND_OWN_PROCESS } from './devhost.bench.js';
import type { BenchCase } from './harness.js';
import { envelopeSource } from './kafka-envelopes.js';

const { Kafka, logLevel } = kafkajs;
const ROOT = new URL('../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/spacetime-sync.js');
const STREAMS = 32;
const STREAM_BATCH = 2_000;
const BACKLOG = Number(process.env.BENCH_ADAPTER_PROC_BACKLOG ?? 30_000);
const ROUNDS = Number(process.env.BENCH_ADAPTER_PROC_ROUNDS ?? 3);
const PARTITIONS = Number(process.env.BENCH_ADAPTER_PROC_PARTITIONS ?? 3);
const SHAPES = (process.env.BENCH_ADAPTER_PROC_SHAPES ?? 'backlog,stream').split(',') as Shape[];
const PROF_DIR = process.env.BENCH_ADAPTER_PROC_PROF;
const settings = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()]),
  );
/** Settings for the service in every variant (`K=V,K=V`). */
const EXTRA_ENV = settings(process.env.BENCH_ADAPTER_PROC_ENV ?? '');
/** The variants alternated round by round: each a label (its settings as written) and its settings. */
const VARIANTS = (process.env.BENCH_ADAPTER_PROC_VARIANTS ?? 'DEVHOST_THREAD=worker;DEVHOST_THREAD=inline')
  .split(';')
  .filter(Boolean)
  .map((text) => ({ label: text.trim(), env: settings(text) }));
type Variant = (typeof VARIANTS)[number];
type Shape = 'backlog' | 'stream';

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a';

const seriesName = (shape: Shape, v: Variant) => `adapter own process, ${shape}, ${v.label}`;

async function until<T>(what: string, probe: () => T | undefined, ms: number, proc?: Proc): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc && proc.child.exitCode !== null) throw new Error(`the service exited:\n${proc.output()}`);
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface ThreadSample {
  /** utime + stime, µs. */
  readonly cpuUs: number;
  /** From schedstat: ns on a CPU, and ns runnable but waiting for one (the machine's other load). */
  readonly runNs: number;
  readonly waitNs: number;
}
interface CpuSample {
  readonly atMs: number;
  readonly totalUs: number;
  readonly threads: Map<string, ThreadSample>;
}

/**
 * CPU of the whole process and of each thread (Linux /proc). Node gives threads no names to tell
 * apart, so the report names the main thread and the busiest other one (the devhost thread in worker
 * mode). A thread's share of the wall clock on a CPU plus waiting for one says whether it is
 * saturated (≈ 100 %: it would run more if it could) or waiting on something else.
 */
function cpuOf(pid: number): CpuSample {
  const tick = 10_000; // USER_HZ 100: one tick is 10 ms
  const us = (stat: string) => {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * tick;
  };
  const threads = new Map<string, ThreadSample>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      threads.set(tid, {
        cpuUs: us(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')),
        runNs: Number(run),
        waitNs: Number(wait),
      });
    } catch {
      // the thread ended meanwhile
    }
  }
  return { atMs: performance.now(), totalUs: us(readFileSync(`/proc/${pid}/stat`, 'utf8')), threads };
}

/** Sum and count of a histogram, and a counter's total, from a Prometheus text page. */
function scrape(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function processCase(shape: Shape, variant: Variant, index: number, round: number): BenchCase {
  const tag = `${shape}-${index}-${round}-${Date.now()}`;
  // PARTITIONS in a variant is the bench's, not the service's: the topic's partition count.
  const { PARTITIONS: partitionsText, ...env } = { ...EXTRA_ENV, ...variant.env };
  const partitions = Number(partitionsText ?? PARTITIONS);
  // What runs where: the devhost thread is the busiest other thread only in worker mode (the default).
  const thread = env.DEVHOST_THREAD ?? 'worker';
  const topic = `bench-proc-${tag}`;
  const prefix = `p${round}v${index}${shape[0]}`;
  const next = envelopeSource(prefix, STREAMS, 'bench');
  let dir = '';
  let service: Proc | undefined;
  let owner: Connected | undefined;
  let producer: kafkajs.Producer | undefined;
  let metricsUrl = '';
  let produced = 0;
  let measuredFrom = 0;
  let measuredTo = 0;
  let cpuStart: ReturnType<typeof cpuOf> | undefined;
  let cpuEnd: ReturnType<typeof cpuOf> | undefined;
  let page = '';
  const latencies: number[] = [];

  const committed = () => {
    let sum = 0;
    for (const s of owner?.conn.db.syncStream.iter() ?? [])
      if (s.streamId.startsWith(`${prefix}:`)) sum += Number(s.headSeq);
    return sum;
  };
  const send = async (messages: { key: string; value: Buffer }[], p: kafkajs.Producer) => {
    for (let i = 0; i < messages.length; i += 1000)
      await p.send({ topic, messages: messages.slice(i, i + 1000) });
    produced += messages.length;
  };
  const percentile = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;

  const collect = async () => {
    if (page || !service?.child.pid) return;
    await until(
      'every produced event committed',
      () => (committed() >= produced ? true : undefined),
      600_000,
      service,
    );
    cpuEnd ??= cpuOf(service.child.pid);
    page = await (await fetch(metricsUrl)).text();
    if (shape !== 'stream' || !owner) return;
    // Per event: produced_at (set when the envelope was built) → committed_at (the reducer's timestamp).
    const rows: {
      producedAt: { microsSinceUnixEpoch: bigint };
      committedAt: { microsSinceUnixEpoch: bigint };
    }[] = [];
    const sub = owner.conn
      .subscriptionBuilder()
      .onApplied(() => {})
      .subscribe([`SELECT * FROM sync_event`]);
    await until(
      'the events',
      () => (owner?.conn.db.syncEvent.count() ?? 0) >= produced || undefined,
      120_000,
    );
    for (const e of owner.conn.db.syncEvent.iter()) if (e.streamId.startsWith(`${prefix}:`)) rows.push(e);
    sub.unsubscribe();
    for (const e of rows)
      latencies.push(Number(e.committedAt.microsSinceUnixEpoch - e.producedAt.microsSinceUnixEpoch) / 1000);
    latencies.sort((a, b) => a - b);
  };

  const metrics = async () => {
    await collect();
    const events = shape === 'backlog' ? measuredTo - measuredFrom : produced;
    const pid = String(service?.child.pid);
    const start = cpuStart;
    const end = cpuEnd;
    const used = (tid: string, f: keyof ThreadSample) =>
      (end?.threads.get(tid)?.[f] ?? 0) - (start?.threads.get(tid)?.[f] ?? 0);
    // The busiest thread other than the main one over the measurement (the devhost thread in worker mode).
    let busiest = '';
    for (const tid of end?.threads.keys() ?? [])
      if (tid !== pid && (busiest === '' || used(tid, 'runNs') > used(busiest, 'runNs'))) busiest = tid;
    const perEvent = (us: number) => (events > 0 ? us / events : Number.NaN);
    const wallNs = start && end ? (end.atMs - start.atMs) * 1e6 : Number.NaN;
    const share = (tid: string, f: 'runNs' | 'waitNs') => (100 * used(tid, f)) / wallNs;
    const calls = scrape(page, 'spacetime_sync_batch_size_events_count');
    return {
      ...(shape === 'stream'
        ? { producedToCommittedP50Ms: percentile(0.5), producedToCommittedP99Ms: percentile(0.99) }
        : {}),
      serviceCpuUsPerEvent: perEvent(start && end ? end.totalUs - start.totalUs : Number.NaN),
      mainThreadCpuUsPerEvent: perEvent(used(pid, 'cpuUs')),
      busiestOtherThreadCpuUsPerEvent: perEvent(used(busiest, 'cpuUs')),
      mainThreadOnCpuPct: share(pid, 'runNs'),
      mainThreadWaitingForCpuPct: share(pid, 'waitNs'),
      busiestOtherThreadOnCpuPct: share(busiest, 'runNs'),
      busiestOtherThreadWaitingForCpuPct: share(busiest, 'waitNs'),
      eventsPerReducerCall: scrape(page, 'spacetime_sync_batch_size_events_sum') / calls,
      reducerCallMs: (1000 * scrape(page, 'spacetime_sync_reducer_call_duration_seconds_sum')) / calls,
      kafkaFetchPauses: scrape(page, 'spacetime_sync_kafka_fetch_pauses_total'),
      committedShare: produced === 0 ? 0 : committed() / produced,
    };
  };

  return {
    name: `adapter as its own process (compiled start, embedded devhost durable: data dir, group-commit fsync): Kafka → committed and durable, ${shape === 'backlog' ? `${fmt(BACKLOG)}-event backlog` : `${fmt(STREAM_BATCH)} produced per run`}, ${partitions} partitions, ${variant.label}, round ${round}`,
    once: shape === 'backlog',
    // Read after the run (a getter: the backlog's measured stretch is known only then).
    get opsPerRun() {
      return shape === 'backlog' ? Math.max(1, measuredTo - measuredFrom) : STREAM_BATCH;
    },
    series: seriesName(shape, variant),
    ...(index === 0 && VARIANTS[1] ? { seriesCompareTo: seriesName(shape, VARIANTS[1]) } : {}),
    compareTo: DURABLE_APPEND_OWN_PROCESS,
    target: {
      text: '≥ 0.8× durable SDK append (devhost own process)',
      minShareOf: { name: DURABLE_APPEND_OWN_PROCESS, share: 0.8 },
    },
    setup: async () => {
      if (!existsSync(join(ROOT, 'dist/cli.js')))
        throw new Error('this case runs the compiled CLI: npm run build first');
      await acquireBroker();
      const brokers = brokerList();
      dir = mkdtempSync(join(tmpdir(), 'bench-adapter-proc-'));
      const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions }, { topic: `${topic}-dlq` }],
        waitForLeaders: true,
      });
      await admin.disconnect();
      producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      if (shape === 'backlog') await send(next(BACKLOG), producer);
      const devhostPort = await freePort();
      const ingestPort = await freePort();
      const dataDir = join(dir, 'devhost');
      const prof = PROF_DIR ? join(PROF_DIR, `${shape}-${index}-${round}`) : undefined;
      if (prof) mkdirSync(prof, { recursive: true });
      service = startProc(
        'service',
        process.execPath,
        [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), CLI, 'start'],
        cleanEnv({
          SPACETIME_SYNC_STATE_DIR: join(dir, 'state'),
          KAFKA_BROKERS: brokers.join(','),
          KAFKA_TOPICS: topic,
          KAFKA_GROUP_ID: `${topic}-group`,
          KAFKA_DEAD_LETTER_TOPIC: `${topic}-dlq`,
          DEVHOST_PORT: String(devhostPort),
          DEVHOST_DATA_DIR: dataDir,
          INGEST_PORT: String(ingestPort),
          PROBE_INTERVAL_MS: '0',
          LOG_LEVEL: 'warn',
          ...env,
        }),
      );
      metricsUrl = `http://127.0.0.1:${ingestPort}/metrics`;
      // Up: /readyz answers 200 once devhost serves and the consumer has joined its group.
      for (;;) {
        if (service.child.exitCode !== null) throw new Error(`the service exited:\n${service.output()}`);
        const ok = await fetch(`http://127.0.0.1:${ingestPort}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const token = readFileSync(join(dataDir, 'owner-token'), 'utf8').trim();
      owner = await connect({ url: `ws://127.0.0.1:${devhostPort}` }, token, EMBEDDED_DATABASE);
      await subscribe(owner.conn, ['SELECT * FROM sync_stream']);
      if (shape === 'backlog') {
        measuredFrom = await until(
          '10 % committed',
          () => {
            const c = committed();
            return c >= BACKLOG / 10 ? c : undefined;
          },
          600_000,
          service,
        );
      }
      cpuStart = cpuOf(service.child.pid as number);
    },
    run: async () => {
      if (shape === 'backlog') {
        measuredTo = await until(
          '90 % committed',
          () => {
            const c = committed();
            return c >= (BACKLOG * 9) / 10 ? c : undefined;
          },
          600_000,
          service,
        );
        cpuEnd = cpuOf(service?.child.pid as number);
        return;
      }
      const target = produced + STREAM_BATCH;
      await send(next(STREAM_BATCH), producer as kafkajs.Producer);
      await until(`${target} committed`, () => (committed() >= target ? true : undefined), 600_000, service);
    },
    metrics,
    report: async () => {
      const m = await metrics();
      return [
        `${variant.label}: ${shape === 'stream' ? `produced→committed over ${latencies.length} events p50 ${fmt(percentile(0.5), 1)} / p99 ${fmt(percentile(0.99), 1)} ms; ` : ''}service CPU ${fmt(m.serviceCpuUsPerEvent, 1)} µs/event: main thread ${fmt(m.mainThreadCpuUsPerEvent, 1)} µs/event, on a CPU ${fmt(m.mainThreadOnCpuPct)} % of the time + waiting for one ${fmt(m.mainThreadWaitingForCpuPct)} %; busiest other thread${thread === 'worker' ? ' (devhost)' : ''} ${fmt(m.busiestOtherThreadCpuUsPerEvent, 1)} µs/event, ${fmt(m.busiestOtherThreadOnCpuPct)} % + ${fmt(m.busiestOtherThreadWaitingForCpuPct)} %; ${fmt(m.eventsPerReducerCall, 1)} events per reducer call, ${fmt(m.reducerCallMs, 1)} ms per call; fetch pauses ${m.kafkaFetchPauses}; committed ${fmt(100 * m.committedShare, 1)} %${Object.keys(EXTRA_ENV).length ? `; every variant's settings ${JSON.stringify(EXTRA_ENV)}` : ''}`,
      ];
    },
    teardown: async () => {
      await producer?.disconnect();
      owner?.conn.disconnect();
      await service?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
      await releaseBroker();
    },
  };
}

export default function suite(): BenchCase[] {
  return Array.from({ length: ROUNDS }, (_, i) =>
    SHAPES.flatMap((shape) =>
      // The order of the variants alternates from round to round.
      (i % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()).map((v) =>
        processCase(shape, v, VARIANTS.indexOf(v), i + 1),
      ),
    ),
  ).flat();
}
