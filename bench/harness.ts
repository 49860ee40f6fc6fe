import { performance } from 'node:perf_hooks';

/** One measured scenario. `run` performs `ops` operations per call and resolves when they are done. */
export interface BenchCase {
  /** Says what is measured, including "durable" (data dir + fsync) or "memory only". */
  readonly name: string;
  /** Operations one call of `run` performs (a batch of 100 reducer calls → 100). */
  readonly opsPerRun?: number;
  /** Name of another case in the same run to report this one's throughput against (as a ratio). */
  readonly compareTo?: string | readonly string[];
  /**
   * Name of the case that bounds this one from above (the same work without the layer this case
   * adds), measured in the same run and printed beside it.
   */
  readonly ceiling?: string;
  /** The target for this case, checked against the result and printed. */
  readonly target?: Target;
  setup?(): Promise<void>;
  run(): Promise<void>;
  teardown?(): Promise<void>;
  /** Extra measurements the case collected (e.g. per-event latency percentiles), printed after the table. */
  report?(): string[];
  /** Named figures the case collected (for targets on them and for the JSON record). */
  metrics?(): Record<string, number>;
}

/** A target: ops/s at least `minOpsPerSec`, and/or a named metric at most `maxMetric.value`. */
export interface Target {
  readonly text: string;
  readonly minOpsPerSec?: number;
  /** At least this share of another case's ops/s in the same run. */
  readonly minShareOf?: { readonly name: string; readonly share: number };
  readonly maxMetric?: { readonly name: string; readonly value: number };
}

export interface BenchResult {
  readonly name: string;
  readonly compareTo?: string | readonly string[];
  readonly ceiling?: string;
  readonly target?: Target;
  readonly notes?: readonly string[];
  readonly metrics?: Record<string, number>;
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

export function percentile(sorted: readonly number[], p: number): number {
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
    const metrics = c.metrics?.();
    return {
      name: c.name,
      ...(c.compareTo ? { compareTo: c.compareTo } : {}),
      ...(c.ceiling ? { ceiling: c.ceiling } : {}),
      ...(c.target ? { target: c.target } : {}),
      notes: c.report?.() ?? [],
      ...(metrics ? { metrics } : {}),
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

/** Whether a result meets its target: undefined when it has none or its reference case did not run. */
export function targetMet(r: BenchResult, byName: ReadonlyMap<string, BenchResult>): boolean | undefined {
  const t = r.target;
  if (!t) return undefined;
  const checks: boolean[] = [];
  if (t.minOpsPerSec !== undefined) checks.push(r.opsPerSec >= t.minOpsPerSec);
  if (t.minShareOf) {
    const base = byName.get(t.minShareOf.name);
    if (!base) return undefined;
    checks.push(r.opsPerSec >= t.minShareOf.share * base.opsPerSec);
  }
  if (t.maxMetric) {
    const v = r.metrics?.[t.maxMetric.name];
    if (v === undefined) return undefined;
    checks.push(v <= t.maxMetric.value);
  }
  return checks.every(Boolean);
}

/** The ceiling column: the bounding case's rate in this run and this case's share of it. */
function ceilingCell(r: BenchResult, byName: ReadonlyMap<string, BenchResult>): string {
  if (!r.ceiling) return '';
  const c = byName.get(r.ceiling);
  if (!c) return `${r.ceiling} (not run)`;
  return `${(r.opsPerSec / c.opsPerSec).toFixed(2)}× of ${fmt(c.opsPerSec, 0)}/s (${shortName(c.name)})`;
}

function targetCell(r: BenchResult, byName: ReadonlyMap<string, BenchResult>): string {
  if (!r.target) return '';
  const met = targetMet(r, byName);
  return `${r.target.text}: ${met === undefined ? 'n/a' : met ? 'met' : 'MISSED'}`;
}

/** A ceiling case's name without its "ceiling: " prefix and parenthesised detail. */
function shortName(name: string): string {
  return name.replace(/^ceiling: /, '').replace(/ \(.*\)$/, '');
}

/** A Markdown table: readable in a terminal and pasteable into the README. */
export function formatTable(results: readonly BenchResult[]): string {
  const byName = new Map(results.map((r) => [r.name, r]));
  const rows = [
    ['scenario', 'ops', 'ops/s', 'p50 ms/run', 'p99 ms/run', 'of its ceiling (same run)', 'target'],
    ...results.map((r) => [
      r.name,
      String(r.ops),
      fmt(r.opsPerSec, 0),
      fmt(r.p50, 3),
      fmt(r.p99, 3),
      ceilingCell(r, byName),
      targetCell(r, byName),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}
