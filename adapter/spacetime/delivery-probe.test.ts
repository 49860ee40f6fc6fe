/** The delivery probe inside the running service (embedded devhost): fan-out latency as a subscriber sees it. */
import { afterAll, describe, expect, it } from 'vitest';
import { startTestService } from '../../test/support/service-harness.js';
import type { RunningService } from '../service.js';
import { PROBE_STREAM } from './delivery-probe.js';

let service: RunningService | undefined;
afterAll(async () => {
  await service?.stop();
});

const metric = (text: string, name: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${name} `))
      ?.split(' ')[1] ?? Number.NaN,
  );

describe('delivery probe', () => {
  it('times probe events until a separate subscriber has them, in its own bounded stream', async () => {
    service = await startTestService({ probeIntervalMs: 20 });
    const scrape = async () => (await fetch(`${service?.httpUrl}/metrics`)).text();
    await expect
      .poll(async () => metric(await scrape(), 'spacetime_sync_probe_fanout_seconds_count'), {
        timeout: 10_000,
      })
      .toBeGreaterThanOrEqual(5);
    const text = await scrape();
    expect(metric(text, 'spacetime_sync_probe_missed_total')).toBe(0);
    // Latencies are real observations: a positive sum, every one under the 10 s bucket.
    expect(metric(text, 'spacetime_sync_probe_fanout_seconds_sum')).toBeGreaterThan(0);
    expect(metric(text, 'spacetime_sync_probe_fanout_seconds_bucket{le="10"}')).toBe(
      metric(text, 'spacetime_sync_probe_fanout_seconds_count'),
    );
    const head = service.writer.streams().get(PROBE_STREAM);
    expect(head?.head).toBeGreaterThanOrEqual(5n);
    expect(head?.lastSourceSeq).toBe(0n);
    // Retention keeps the probe stream to its newest 100 events.
    expect(head?.retainMinEvents).toBe(100n);
  });
});
