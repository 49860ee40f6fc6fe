/**
 * Shadow parity inside the running service, over the real broker and the legacy-lane reference
 * server: the compared events, time to parity and mismatches by class it exports.
 */
import { describe, expect, it, vi } from 'vitest';
import { syncEnvelope } from '../support/envelopes.js';
import type { DualStack } from './testing/dual-stack.js';
import { ownLanes } from './testing/parity-run.js';

let stack: DualStack;
ownLanes(
  (s) => {
    stack = s;
  },
  { shadow: { sampleRate: 1, graceMs: 1_000, tickMs: 200 } },
);

describe('shadow mode in the running service', () => {
  const metric = async (name: string, labels = '') => {
    const text = await (await fetch(`${stack.service.httpUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
    return line ? Number(line.split(' ').pop()) : Number.NaN;
  };

  it('exports compared events, time to parity and mismatches by class', async () => {
    const SHADOW = 'parity.shadow';
    const ev = (stream: string, seq: bigint) =>
      syncEnvelope(stream, `${stream}#${seq}`, `{"n":${seq}}`, seq, { authorityTopic: SHADOW });
    // Streams created after the service started: the shadow picks them up at its next tick.
    await stack.produce(stack.shared, [ev('sh:1', 1n), ev('sh:2', 2n), ev('sh:1', 3n), ev('sh:3', 4n)]);
    await vi.waitFor(async () => expect(await metric('spacetime_sync_parity_compared_total')).toBe(4), {
      timeout: 60_000,
      interval: 200,
    });
    expect(await metric('spacetime_sync_parity_time_to_parity_seconds_count')).toBe(4);
    for (const c of ['missing', 'extra', 'payload_differs', 'order_differs', 'duplicate'])
      expect(await metric('spacetime_sync_parity_mismatch_total', `class="${c}"`)).toBe(0);
    // One event only the legacy lane's feed carries: missing, once the grace window has passed.
    await stack.produce(stack.legacyOnly, [ev('sh:2', 5n)]);
    await vi.waitFor(
      async () => expect(await metric('spacetime_sync_parity_mismatch_total', 'class="missing"')).toBe(1),
      { timeout: 60_000, interval: 200 },
    );
    expect(await metric('spacetime_sync_parity_compared_total')).toBe(4);
    expect(await metric('spacetime_sync_parity_shadow_connected', 'lane="legacy"')).toBe(1);
  }, 120_000);
});
