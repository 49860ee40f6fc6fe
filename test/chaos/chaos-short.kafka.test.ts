/**
 * The chaos runner's short mode inside `npm test`: every fault kind once against real processes (its
 * own broker, a devhost process with a data dir on a tmpfs of its own, three adapters in one group,
 * desktop client processes, the fault proxies, the reference legacy lane fed the same authority
 * events) — including a full disk, history truncated and the epoch moved under stopped clients, and
 * the legacy lane killed and its client's socket dropped — then the invariant checker over
 * SpacetimeDB, every client journal (a truncated client must have rebootstrapped, never resumed as
 * if gapless) and the parity harness's comparison of the two lanes.
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
    // disk_full needs a tmpfs of devhost's own (root); without one the run leaves it out and says so.
    if (!report.kinds.includes('disk_full')) console.warn(lines.find((l) => l.includes('no tmpfs')));
    for (const k of report.kinds) expect(report.faults[k].rounds, k).toBeGreaterThanOrEqual(1);
    expect(report.kinds).toContain('legacy_crash');
    // The legacy lane agreed through the parity harness over the streams in parity, after its faults.
    expect(report.parityCompared).toBeGreaterThan(0);
    // The run did work: every event published reached SpacetimeDB and every client applied them all.
    expect(report.published).toBeGreaterThanOrEqual(FAULT_KINDS.length * 150);
    expect(report.stored).toBe(report.published);
    // Every client applied every event still retained (a client truncated past skips what was dropped).
    expect(report.clientEventsApplied).toBeGreaterThanOrEqual(3 * (report.published - report.retired));
  }, 600_000);
});
