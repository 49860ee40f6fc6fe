import { describe, expect, it } from 'vitest';
import { createAdapterMetrics, MAX_FAMILIES, OTHER_FAMILY } from './metrics.js';
import type { StreamHead } from './ports/stream-head.js';
import { createMetricsRegistry } from './telemetry/metrics.js';

const head = (epoch: bigint): StreamHead => ({
  head: 10n,
  lowWatermark: 1n,
  epoch,
  lastSourceSeq: 10n,
  sourceGapMissing: 0n,
  updatedAtMicros: 0n,
  retainMinEvents: 0n,
});

async function epochChanges(registry: ReturnType<typeof createMetricsRegistry>) {
  const m = await registry.getSingleMetric('spacetime_sync_stream_epoch_changes_total')?.get();
  return Object.fromEntries((m?.values ?? []).map((v) => [v.labels.family, v.value]));
}

describe('stream epoch changes', () => {
  it('the first refresh is the baseline; later bumps count per family, a new stream from epoch 1', async () => {
    const registry = createMetricsRegistry();
    const metrics = createAdapterMetrics(registry);
    metrics.refreshStreams(new Map([['orders:1', head(3n)]]));
    expect(await epochChanges(registry)).toEqual({});
    metrics.refreshStreams(
      new Map([
        ['orders:1', head(5n)],
        ['billing:1', head(2n)],
        ['billing:2', head(1n)],
      ]),
    );
    expect(await epochChanges(registry)).toEqual({ orders: 2, billing: 1 });
    metrics.refreshStreams(new Map([['orders:1', head(5n)]]));
    expect(await epochChanges(registry)).toEqual({ orders: 2, billing: 1 });
  });
});

describe('the Kafka consumer family', () => {
  it('is exported only once enabled, so a service without Kafka does not read as down', async () => {
    const registry = createMetricsRegistry();
    const metrics = createAdapterMetrics(registry);
    expect(await registry.metrics()).not.toContain('spacetime_sync_kafka_consuming');
    metrics.enableKafkaConsumerMetrics();
    metrics.kafkaConsuming.set(1);
    expect(await registry.metrics()).toMatch(/^spacetime_sync_kafka_consuming 1$/m);
  });
});

describe('bounded metric labels and state (security audit finding 10)', () => {
  it('stream families past MAX_FAMILIES are counted as other; a caller cannot grow the label set', async () => {
    const registry = createMetricsRegistry();
    const metrics = createAdapterMetrics(registry);
    const streams = new Map(Array.from({ length: 1000 }, (_, i) => [`fam${i}:1`, head(1n)] as const));
    metrics.refreshStreams(streams);
    const lag = await registry.getSingleMetric('spacetime_sync_sequence_lag')?.get();
    const families = new Set((lag?.values ?? []).map((v) => v.labels.family));
    expect(families.size).toBe(MAX_FAMILIES + 1);
    expect(families.has(OTHER_FAMILY)).toBe(true);
  });

  it('seen authority seqs are kept only for streams SpacetimeDB holds, and a refused one is forgotten', () => {
    const metrics = createAdapterMetrics(createMetricsRegistry());
    for (let i = 0; i < 10_000; i++) metrics.sawSourceSeq(`ghost:${i}`, 5n);
    metrics.sawSourceSeq('orders:1', 12n);
    metrics.refreshStreams(new Map([['orders:1', head(1n)]]));
    expect(metrics.latestSourceSeq('ghost:1')).toBeUndefined();
    expect(metrics.latestSourceSeq('orders:1')).toBe(12n);
    metrics.sawSourceSeq('orders:1', 10n ** 18n);
    metrics.refusedSourceSeq('orders:1', 10n ** 18n); // dead-lettered: must not poison the lag
    expect(metrics.latestSourceSeq('orders:1')).toBeUndefined();
  });
});
