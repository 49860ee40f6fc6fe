import os from 'node:os';
import { performance } from 'node:perf_hooks';

/** One measured scenario. `run` performs `ops` operations per call and resolves when they are done. */
export interface BenchCase {
  readonly name: string;
  /** Operations one call of `run` performs (a batch of 100 reducer calls → 100). */
  readonly opsPerRun?: number;
  /** Name of another case in the same run to report this one's throughput against (as a ratio). */
  readonly compareTo?: string | readonly string[];
  setup?(): Promise<void>;
  run(): Promise<void>;
  teardown?(): Promise<void>;
  /** Extra measurements the case collected (e.g. per-event latency percentiles), printed after the table. */
  report?(): string[];
}

export interface BenchResult {
  readonly name: string;
  readonly compareTo?: string | readonly string[];
  readonly notes?: readonly string[];
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  /** Latency of one `run` call, milliseconds. */
  readonly p50: number;
  readonly p99: number;
}

export interface BenchOptions {
  /** Measured time per case; warm-up runs for a quarter of it first. */
  readonly seconds: number;
  readonly maxRuns: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? Number.NaN;
}

async function loop(c: BenchCase, seconds: number, maxRuns: number): Promise<number[]> {
  const samples: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end && samples.length < maxRuns) {
    const t0 = performance.now();
    await c.run();
    samples.push(performance.now() - t0);
  }
  return samples;
}

export async function measure(c: BenchCase, opts: BenchOptions): Promise<BenchResult> {
  await c.setup?.();
  try {
    await loop(c, opts.seconds / 4, opts.maxRuns);
    const samples = await loop(c, opts.seconds, opts.maxRuns);
    const total = samples.reduce((a, b) => a + b, 0) / 1000;
    const ops = samples.length * (c.opsPerRun ?? 1);
    samples.sort((a, b) => a - b);
    return {
      name: c.name,
      ...(c.compareTo ? { compareTo: c.compareTo } : {}),
      notes: c.report?.() ?? [],
      ops,
      seconds: total,
      opsPerSec: ops / total,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
    };
  } finally {
    await c.teardown?.();
  }
}

export function environmentLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `node ${process.version} · ${cpu} · ${os.cpus().length} cores · ${os.platform()} ${os.arch()}`;
}

const fmt = (n: number, digits = 2) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a';

/** Throughput ratios of cases that named a baseline measured in the same run. */
export function formatRatios(results: readonly BenchResult[]): string[] {
  const byName = new Map(results.map((r) => [r.name, r]));
  return results.flatMap((r) => {
    const bases =
      r.compareTo === undefined ? [] : typeof r.compareTo === 'string' ? [r.compareTo] : r.compareTo;
    return bases.flatMap((name) => {
      const base = byName.get(name);
      return base ? [`ratio: ${r.name} = ${(r.opsPerSec / base.opsPerSec).toFixed(2)} × ${base.name}`] : [];
    });
  });
}

/** A Markdown table: readable in a terminal and pasteable into the README. */
export function formatTable(results: readonly BenchResult[]): string {
  const rows = [
    ['scenario', 'ops', 'ops/s', 'p50 ms/run', 'p99 ms/run'],
    ...results.map((r) => [r.name, String(r.ops), fmt(r.opsPerSec, 0), fmt(r.p50, 3), fmt(r.p99, 3)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}
