/**
 * `npm run bench:peers` (not in CI): spacetime-sync and Centrifugo v6 side by side on this machine,
 * the same workloads against both, three repetitions, each pair printed with its ratio and spread.
 * Centrifugo is built once from the Go module proxy at a pinned version (scripts/centrifugo.sh) and
 * configured by bench/peers/centrifugo.json (memory engine, history + recovery). Results are appended
 * to bench/results/ like `npm run bench`.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setGlobalLogLevel } from 'spacetimedb';
import { percentile } from '../harness.js';
import { describeMachine, machineLine } from '../machine.js';
import { type OursThread, type PeerSystem, startCentrifugo, startOurs } from './systems.js';

const REPS = Number(process.env.PEERS_REPS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const BIG = Number(process.env.PEERS_BIG_RECOVERY ?? 100_000);
const BODY = 'x'.repeat(200);
/** Publish calls kept in flight to one stream in the pipelined case. */
const IN_FLIGHT = Number(process.env.PEERS_IN_FLIGHT ?? 8);
/**
 * The workloads to run (PEERS_ONLY, comma-separated; default all): `publish`, `pipelined`, `fanout`,
 * `recover` (250 missed), `big` (PEERS_BIG_RECOVERY missed and the first live event after it). One
 * figure in a short quiet window: `PEERS_ONLY=recover PEERS_THREADS=worker npm run bench:peers`.
 */
const WORKLOADS = ['publish', 'pipelined', 'fanout', 'recover', 'big'] as const;
const ONLY = new Set((process.env.PEERS_ONLY ?? WORKLOADS.join(',')).split(',').map((w) => w.trim()));
for (const w of ONLY)
  if (!(WORKLOADS as readonly string[]).includes(w))
    throw new Error(`PEERS_ONLY: unknown workload '${w}' (one of ${WORKLOADS.join(', ')})`);

const now = () => performance.timeOrigin + performance.now();
const payloads = (n: number) => Array.from({ length: n }, () => JSON.stringify({ t: now(), b: BODY }));
const sentAt = (p: string) => (JSON.parse(p) as { t: number }).t;

type Figures = Record<string, number>;

/**
 * CPU seconds of the server process so far, split by thread (Linux /proc/<pid>/task/<tid>/stat): its
 * main thread (ingest, writer; devhost too when inline), devhost's own thread when it has one, and
 * the rest (V8's GC and compiler helpers, libuv's pool).
 */
function threadCpu(
  pid: number,
  devhostTid: number | undefined,
): { main: number; devhost: number; other: number } {
  const out = { main: 0, devhost: 0, other: 0 };
  const hz = 100; // USER_HZ on Linux
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(f[11]) + Number(f[12])) / hz;
    if (Number(tid) === pid) out.main += seconds;
    else if (Number(tid) === devhostTid) out.devhost += seconds;
    else out.other += seconds;
  }
  return out;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function publishing(sys: PeerSystem, rep: number): Promise<Figures> {
  const stream = `pub-${rep}`;
  const lat: number[] = [];
  const end = now() + SECONDS * 1000;
  let events = 0;
  const t0 = now();
  while (now() < end) {
    const t = now();
    await sys.publish(stream, payloads(100));
    lat.push(now() - t);
    events += 100;
  }
  lat.sort((a, b) => a - b);
  return {
    'publish ev/s (batches of 100 × 200 B, 1 in flight)': events / ((now() - t0) / 1000),
    'publish → response p50 ms': percentile(lat, 50),
  };
}

/** The same publishing with IN_FLIGHT calls in flight to one stream (ours: publisher_id + publisher_seq). */
async function pipelinedPublishing(sys: PeerSystem, rep: number): Promise<Figures> {
  const stream = `pipe-${rep}`;
  const lat: number[] = [];
  const end = now() + SECONDS * 1000;
  let events = 0;
  const t0 = now();
  const worker = async () => {
    while (now() < end) {
      const t = now();
      await sys.publish(stream, payloads(100), true);
      lat.push(now() - t);
      events += 100;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  lat.sort((a, b) => a - b);
  return {
    [`publish ev/s (batches of 100 × 200 B, ${IN_FLIGHT} in flight to one stream)`]:
      events / ((now() - t0) / 1000),
    [`publish → response p50 ms (${IN_FLIGHT} in flight)`]: percentile(lat, 50),
  };
}

async function fanout(sys: PeerSystem, rep: number, rate: number, subscribers: number): Promise<Figures> {
  const stream = `fan-${rate}-${rep}`;
  const lat: number[] = [];
  const followers = [];
  for (let i = 0; i < subscribers; i++)
    followers.push(await sys.follow(stream, `fan-${rate}-${rep}-${i}`, (p) => lat.push(now() - sentAt(p))));
  // Fixed rate: a batch of rate/100 every 10 ms; a publish that takes longer delays the next (counted).
  const perTick = Math.max(1, Math.round(rate / 100));
  const end = now() + SECONDS * 1000;
  let sent = 0;
  let next = now();
  while (now() < end) {
    await sys.publish(stream, payloads(perTick));
    sent += perTick;
    next += 10;
    const wait = next - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const achieved = sent / (SECONDS + (now() - end) / 1000);
  const expected = sent * subscribers;
  const deadline = now() + 30_000;
  while (lat.length < expected && now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const f of followers) await f.close();
  lat.sort((a, b) => a - b);
  return {
    [`fan-out ${rate} ev/s to ${subscribers}: p50 ms`]: percentile(lat, 50),
    [`fan-out ${rate} ev/s to ${subscribers}: p99 ms`]: percentile(lat, 99),
    [`fan-out ${rate} ev/s to ${subscribers}: delivered share`]: lat.length / expected,
    // A publisher slower than the rate sends less: the latencies are then at that lower rate.
    [`fan-out ${rate} ev/s to ${subscribers}: achieved publish ev/s`]: achieved,
  };
}

async function recovery(sys: PeerSystem, rep: number, missed: number): Promise<Figures> {
  const stream = `rec-${missed}-${rep}`;
  const key = `rec-${missed}-${rep}`;
  let got = 0;
  let first = await sys.follow(stream, key, () => got++);
  await sys.publish(stream, payloads(1));
  while (got < 1) await new Promise((r) => setTimeout(r, 5));
  await first.close();
  for (let i = 0; i < missed; i += 500) await sys.publish(stream, payloads(Math.min(500, missed - i)));
  got = 0;
  let liveAt = 0;
  let liveLatency = Number.NaN;
  const t0 = now();
  first = await sys.follow(stream, key, (p) => {
    got++;
    if (got === missed) liveAt = now();
    if (got === missed + 1) liveLatency = now() - sentAt(p);
  });
  const deadline = now() + 120_000;
  while (got < missed && now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const recovered = got >= missed ? liveAt - t0 : Number.NaN;
  await sys.publish(stream, payloads(1));
  while (got < missed + 1 && now() < deadline) await new Promise((r) => setTimeout(r, 2));
  await first.close();
  return {
    [`recover ${missed} missed: ms`]: recovered,
    [`recover ${missed} missed: share recovered`]: Math.min(got, missed) / missed,
    [`first live event after recovering ${missed}: ms`]: liveLatency,
  };
}

async function measure(
  start: () => Promise<PeerSystem>,
  rep: number,
): Promise<{ name: string; config: string; figures: Figures }> {
  const sys = await start();
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const figures: Figures = { 'idle server RSS MiB': rssMiB(sys.pid) };
    const cpu0 = threadCpu(sys.pid, sys.devhostThreadId);
    const t0 = now();
    if (ONLY.has('publish')) Object.assign(figures, await publishing(sys, rep));
    if (ONLY.has('pipelined')) Object.assign(figures, await pipelinedPublishing(sys, rep));
    if (ONLY.has('fanout')) Object.assign(figures, await fanout(sys, rep, 1000, 10));
    // Run alone, the recovery gets a warm-up like the one the earlier workloads gave it (the fan-out
    // connects 10 followers): five recoveries, not recorded.
    if (ONLY.has('recover') && !ONLY.has('fanout'))
      for (let i = 1; i <= 5; i++) await recovery(sys, rep + 1000 * i, 250);
    if (ONLY.has('recover')) Object.assign(figures, await recovery(sys, rep, 250));
    if (ONLY.has('big')) Object.assign(figures, await recovery(sys, rep, BIG));
    // Share of one core each thread group used over all the workloads above (2 cores = 2.0 at most).
    const cpu1 = threadCpu(sys.pid, sys.devhostThreadId);
    const wall = (now() - t0) / 1000;
    figures['server CPU, main thread (cores)'] = (cpu1.main - cpu0.main) / wall;
    figures['server CPU, devhost thread (cores)'] = (cpu1.devhost - cpu0.devhost) / wall;
    figures['server CPU, other threads: GC, libuv (cores)'] = (cpu1.other - cpu0.other) / wall;
    return { name: sys.name, config: sys.config, figures };
  } finally {
    await sys.stop();
  }
}

const fmt = (n: number) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 2 }) : 'n/a';

/** The service's thread modes measured side by side (PEERS_THREADS, default both: the A/B). */
const THREADS = (process.env.PEERS_THREADS ?? 'worker,inline').split(',') as OursThread[];

async function main(): Promise<void> {
  setGlobalLogLevel('warn');
  const machine = describeMachine();
  console.log(machineLine(machine));
  // Per repetition: ours in each thread mode (their order alternating between repetitions, so a
  // load that drifts during the run does not favour one), then Centrifugo.
  const runs: ({ peer: Figures } & Partial<Record<OursThread, Figures>>)[] = [];
  const configs = new Set<string>();
  for (let rep = 0; rep < REPS; rep++) {
    const run: { peer: Figures } & Partial<Record<OursThread, Figures>> = { peer: {} };
    const order = rep % 2 === 0 ? THREADS : [...THREADS].reverse();
    for (const thread of order) {
      process.stderr.write(`repetition ${rep + 1}/${REPS}: spacetime-sync, devhost ${thread}…\n`);
      const ours = await measure(() => startOurs(thread), rep);
      configs.add(`spacetime-sync: ${ours.config}`);
      run[thread] = ours.figures;
    }
    process.stderr.write(`repetition ${rep + 1}/${REPS}: Centrifugo…\n`);
    const peer = await measure(startCentrifugo, rep);
    configs.add(`Centrifugo: ${peer.config}`);
    run.peer = peer.figures;
    runs.push(run);
  }
  for (const c of configs) console.log(c);
  console.log(machineLine(machine));
  const sides = [...THREADS, 'peer'] as const;
  const title = (side: OursThread | 'peer') =>
    side === 'peer' ? 'Centrifugo' : side === 'worker' ? 'ours, devhost own thread' : 'ours, devhost inline';
  const ratios: [OursThread | 'peer', OursThread | 'peer'][] = [
    ...THREADS.map((t) => [t, 'peer'] as [OursThread, 'peer']),
    ...(THREADS.length === 2 ? [['worker', 'inline'] as [OursThread, OursThread]] : []),
  ];
  const rows = [
    [
      'measure',
      ...sides.map((x) => `${title(x)} (median, min–max)`),
      ...ratios.map(([a, b]) => `${a === 'worker' ? 'thread' : a} ÷ ${b === 'peer' ? 'Centrifugo' : b}`),
    ],
  ];
  const keys = new Set(runs.flatMap((r) => sides.flatMap((x) => Object.keys(r[x] ?? {}))));
  for (const key of keys) {
    const cell = (side: OursThread | 'peer') => {
      const v = runs.map((r) => r[side]?.[key] ?? Number.NaN).sort((a, b) => a - b);
      return {
        median: percentile(v, 50),
        text: `${fmt(percentile(v, 50))} (${fmt(v[0] as number)}–${fmt(v[v.length - 1] as number)})`,
      };
    };
    const ratio = (a: OursThread | 'peer', b: OursThread | 'peer') => {
      const r = cell(a).median / cell(b).median;
      return Number.isFinite(r) ? r.toPrecision(3) : 'n/a';
    };
    rows.push([key, ...sides.map((x) => cell(x).text), ...ratios.map(([a, b]) => ratio(a, b))]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.map((c, j) => c.padEnd(widths[j] as number)).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(
    `${new Date().toISOString().replaceAll(':', '-').replace(/\..*$/, '')}-${machine.commit}-peers.json`,
    dir,
  );
  // `ours` stays the default mode (devhost on its own thread) for readers of earlier files; `inline`
  // is the A/B's other side.
  const recorded = runs.map((r) => ({
    ours: r.worker,
    ...(r.inline ? { inline: r.inline } : {}),
    peer: r.peer,
  }));
  writeFileSync(
    file,
    `${JSON.stringify({ machine, configs: [...configs], threads: THREADS, runs: recorded }, null, 2)}\n`,
  );
  console.log(`recorded in ${file.pathname}`);
}

await main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
