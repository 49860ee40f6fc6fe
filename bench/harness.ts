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
  /**
   * Rounds of one measurement: cases with the same series name are the same scenario measured
   * again (alternated with another series in one run); the run prints each series' median and range.
   */
  readonly series?: string;
  /** Another series of the same run to report this series' median against (and per round). */
  readonly seriesCompareTo?: string;
  setup?(): Promise<void>;
  run(): Promise<void>;
  teardown?(): Promise<void>;
  /**
   * Extra measurements the case collected (e.g. per-event latency percentiles), printed after the
   * table; asynchronous when they live elsewhere (a child process of subscribers).
   */
  report?(): string[] | Promise<string[]>;
  /** Named figures the case collected (for targets on them and for the JSON record). */
  metrics?(): Record<string, number> | Promise<Record<string, number>>;
  /**
   * A long scenario (a soak) that warms up and paces itself: `run` is called exactly once, with no
   * warm-up round and whatever BENCH_SECONDS says.
   */
  readonly once?: boolean;
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
  readonly series?: string;
  readonly seriesCompareTo?: string;
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
    if (!c.once) await loop(c, opts.seconds / 4, opts.maxRuns);
    const samples = c.once
      ? await loop(c, Number.POSITIVE_INFINITY, 1)
      : await loop(c, opts.seconds, opts.maxRuns);
    const total = samples.reduce((a, b) => a + b, 0) / 1000;
    const ops = samples.length * (c.opsPerRun ?? 1);
    samples.sort((a, b) => a - b);
    const metrics = await c.metrics?.();
    return {
      name: c.name,
      ...(c.compareTo ? { compareTo: c.compareTo } : {}),
      ...(c.ceiling ? { ceiling: c.ceiling } : {}),
      ...(c.target ? { target: c.target } : {}),
      ...(c.series ? { series: c.series } : {}),
      ...(c.seriesCompareTo ? { seriesCompareTo: c.seriesCompareTo } : {}),
      notes: (await c.report?.()) ?? [],
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

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/**
 * Series measured in rounds: each series' median ops/s and range (its run-to-run spread), and its
 * median against the series it compares to, with the per-round ratios (round i of one against round
 * i of the other, measured next to each other).
 */
export function formatSeries(results: readonly BenchResult[]): string[] {
  const rates = new Map<string, number[]>();
  for (const r of results) if (r.series) rates.set(r.series, [...(rates.get(r.series) ?? []), r.opsPerSec]);
  const lines = [...rates].map(
    ([name, xs]) =>
      `series: ${name}: median ${fmt(median(xs), 0)}/s, range ${fmt(Math.min(...xs), 0)}–${fmt(Math.max(...xs), 0)} over ${xs.length} rounds (${xs.map((x) => fmt(x, 0)).join(', ')})`,
  );
  const compared = new Map<string, string>();
  for (const r of results) if (r.series && r.seriesCompareTo) compared.set(r.series, r.seriesCompareTo);
  for (const [name, base] of compared) {
    const a = rates.get(name);
    const b = rates.get(base);
    if (!a || !b) continue;
    const perRound = a.slice(0, b.length).map((x, i) => (x / (b[i] as number)).toFixed(2));
    const overlap = Math.min(...a) <= Math.max(...b) && Math.min(...b) <= Math.max(...a);
    lines.push(
      `series ratio: ${name} = ${(median(a) / median(b)).toFixed(2)} × ${base} (medians; per round ${perRound.join(', ')}; ranges ${overlap ? 'overlap' : 'do not overlap'})`,
    );
  }
  return lines;
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
