import { describe, expect, it } from 'vitest';
import { createAdapterMetrics } from './metrics.js';
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
