/** Summary of a set of latencies (ms), nearest-rank percentiles; empty input gives count 0 and nulls. */
export interface LatencyStats {
  readonly count: number;
  readonly minMs: number | null;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

export function latencyStats(samples: readonly number[]): LatencyStats {
  if (samples.length === 0)
    return { count: 0, minMs: null, p50Ms: null, p90Ms: null, p99Ms: null, maxMs: null };
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] as number;
  return {
    count: s.length,
    minMs: s[0] as number,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: at(1),
  };
}
