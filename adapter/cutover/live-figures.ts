/**
 * Where the gates' live figures come from: the service's own Prometheus registry, read the way a
 * scrape would see it. Shadow parity, dead letters, the delivery probe's fan-out histogram and the
 * consumer lag are exported by the service, auth failures by its authentication layer
 * (adapter/auth/failures.ts); rebootstraps are read while shadow parity runs, else they are "not
 * measured". Reading by name keeps the controller
 * independent of which component owns each family.
 */
import type { Registry } from 'prom-client';
import type { GateSample, HistogramSample } from './gate-window.js';

/** The metric families the gates read (the ops dashboard and alert rules use the same names). */
export const GATE_METRICS = {
  parityMismatches: 'spacetime_sync_parity_mismatch_total',
  parityCompared: 'spacetime_sync_parity_compared_total',
  deadLetters: 'spacetime_sync_dead_letter_total',
  rebootstraps: 'spacetime_sync_parity_rebootstraps_total',
  authFailures: 'spacetime_sync_auth_failures_total',
  fanout: 'spacetime_sync_probe_fanout_seconds',
  consumerLag: 'spacetime_sync_kafka_consumer_lag_messages',
} as const;

type Values = { value: number; labels: Record<string, string | number>; metricName?: string }[];

async function values(registry: Registry, name: string): Promise<Values | undefined> {
  const m = registry.getSingleMetric(name);
  if (!m) return undefined;
  return ((await m.get()) as { values: Values }).values;
}

/** Sum over every label set; undefined when the family is not registered. */
async function sum(registry: Registry, name: string): Promise<number | undefined> {
  const vs = await values(registry, name);
  return vs?.reduce((a, v) => a + v.value, 0);
}

async function histogram(registry: Registry, name: string): Promise<HistogramSample | undefined> {
  const vs = await values(registry, name);
  if (!vs) return undefined;
  const byLe = new Map<number, number>();
  let count = 0;
  for (const v of vs) {
    if (v.metricName === `${name}_count`) count += v.value;
    if (v.metricName !== `${name}_bucket`) continue;
    const le = v.labels.le;
    if (le === '+Inf' || le === undefined) continue;
    const bound = Number(le);
    byLe.set(bound, (byLe.get(bound) ?? 0) + v.value);
  }
  const buckets = [...byLe].sort((a, b) => a[0] - b[0]).map(([le, c]) => ({ le, count: c }));
  return { buckets, count };
}

/** One sample of every figure; `consumerLag` only when a consumer runs (else not measured). */
export async function sampleFigures(
  registry: Registry,
  atMs: number,
  kafkaRunning: boolean,
): Promise<GateSample> {
  const m = GATE_METRICS;
  return {
    atMs,
    parityMismatches: await sum(registry, m.parityMismatches),
    parityCompared: await sum(registry, m.parityCompared),
    deadLetters: await sum(registry, m.deadLetters),
    rebootstraps: await sum(registry, m.rebootstraps),
    authFailures: await sum(registry, m.authFailures),
    fanout: await histogram(registry, m.fanout),
    consumerLag: kafkaRunning ? ((await sum(registry, m.consumerLag)) ?? 0) : undefined,
  };
}
