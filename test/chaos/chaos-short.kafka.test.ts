/**
 * The chaos runner's short mode inside `npm test`: every fault kind once against real processes (its
 * own broker, a devhost process with a data dir, three adapters in one group, desktop client
 * processes, the fault proxies), then the invariant checker over SpacetimeDB and every client journal.
 * `npm run chaos -- --long` is the same runner for long.
 */
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../chaos/faults.js';
import { runChaos } from '../../chaos/runner.js';

describe('chaos, short mode', () => {
  it('survives each fault kind once: nothing lost, duplicated or out of order anywhere', async () => {
    const lines: string[] = [];
    const report = await runChaos({
      rounds: FAULT_KINDS.length,
      minutes: 10,
      seed: 1,
      adapters: 3,
      clients: 3,
      streams: 6,
      partitions: 6,
      eventsPerRound: 150,
      maxCombined: 1,
      firstEach: true,
      checkEvery: 0,
      keepDir: false,
      log: (l) => lines.push(l),
    });
    const summary = lines.join('\n');
    expect(report.violations, summary).toEqual([]);
    expect(report.failures, summary).toEqual([]);
    expect(report.rounds).toBe(FAULT_KINDS.length);
    for (const k of FAULT_KINDS) expect(report.faults[k].rounds, k).toBe(1);
    // The run did work: every event published reached SpacetimeDB and every client applied them all.
    expect(report.published).toBeGreaterThanOrEqual(FAULT_KINDS.length * 150);
    expect(report.stored).toBe(report.published);
    expect(report.clientEventsApplied).toBeGreaterThanOrEqual(3 * report.published);
  }, 600_000);
});
