import { describe, expect, it } from 'vitest';
import { GateWindow, quantile } from './gate-window.js';
import {
  advanceGates,
  breachGates,
  DEFAULT_GATE_THRESHOLDS,
  failing,
  GATE_NAMES,
  type GateReadings,
  type GateThresholds,
} from './gates.js';

const T: GateThresholds = {
  ...DEFAULT_GATE_THRESHOLDS,
  windowMs: 60_000,
  minSoakMs: { ...DEFAULT_GATE_THRESHOLDS.minSoakMs, shadow: 1000, canary: 1000 },
};

const healthy: GateReadings = {
  parity_mismatches: 0,
  parity_compared: 500,
  fanout_p99_ms: 20,
  dead_letters_per_min: 0,
  consumer_lag: 3,
  rebootstraps_per_min: 0,
  auth_failures_per_min: 0,
  soak_ms: 5000,
};

describe('gates', () => {
  it('passes an advance when every reading is within its bound', () => {
    expect(failing(advanceGates(healthy, T, 'shadow'))).toEqual([]);
    expect(advanceGates(healthy, T, 'shadow').map((g) => g.gate)).toEqual([...GATE_NAMES]);
  });

  it.each([
    ['parity_mismatches', 1, 'parity_mismatches 1 > 0'],
    ['parity_compared', 99, 'parity_compared 99 < 100'],
    ['fanout_p99_ms', 100.5, 'fanout_p99_ms 100.50 > 100'],
    ['dead_letters_per_min', 2, 'dead_letters_per_min 2 > 1'],
    ['consumer_lag', 1001, 'consumer_lag 1001 > 1000'],
    ['rebootstraps_per_min', 6, 'rebootstraps_per_min 6 > 5'],
    ['auth_failures_per_min', 11, 'auth_failures_per_min 11 > 10'],
    ['soak_ms', 999, 'soak_ms 999 < 1000'],
  ] as const)('refuses an advance on %s = %s, saying so', (gate, value, text) => {
    const bad = failing(advanceGates({ ...healthy, [gate]: value }, T, 'canary'));
    expect(bad.map((g) => [g.gate, g.reading, g.text])).toEqual([[gate, value, text]]);
  });

  it('takes the threshold values from the configuration', () => {
    const loose = { ...T, maxFanoutP99Ms: 250, minParityCompared: 0 };
    expect(
      failing(advanceGates({ ...healthy, fanout_p99_ms: 200, parity_compared: 0 }, loose, 'shadow')),
    ).toEqual([]);
  });

  it('an unmeasured required gate fails an advance; an unmeasured optional one passes', () => {
    const r = {
      ...healthy,
      fanout_p99_ms: undefined,
      consumer_lag: undefined,
      auth_failures_per_min: undefined,
    };
    expect(failing(advanceGates(r, T, 'shadow')).map((g) => g.text)).toEqual([
      'fanout_p99_ms: not measured (required)',
    ]);
  });

  it('leaving legacy_only needs no evidence but the soak', () => {
    const nothing = Object.fromEntries(GATE_NAMES.map((g) => [g, undefined])) as GateReadings;
    expect(failing(advanceGates({ ...nothing, soak_ms: 0 }, T, 'legacy_only'))).toEqual([]);
  });

  it('the rollback watch looks at health only: low traffic, a young stage or no data is no breach', () => {
    const quiet = { ...healthy, parity_compared: 0, soak_ms: 0, fanout_p99_ms: undefined };
    expect(failing(breachGates(quiet, T, 'canary'))).toEqual([]);
    const broken = { ...quiet, parity_mismatches: 2, dead_letters_per_min: 4 };
    expect(failing(breachGates(broken, T, 'canary')).map((g) => g.gate)).toEqual([
      'parity_mismatches',
      'dead_letters_per_min',
    ]);
  });
});

describe('gate window', () => {
  const hist = (counts: number[]) => ({
    buckets: [0.01, 0.05, 0.1, 0.5].map((le, i) => ({ le, count: counts[i] as number })),
    count: counts[3] as number,
  });

  it('reads counter increases within the window and forgets what is older', () => {
    const w = new GateWindow(10_000);
    w.push({ atMs: 0, parityMismatches: 0, parityCompared: 0, deadLetters: 0 });
    w.push({ atMs: 5_000, parityMismatches: 2, parityCompared: 100, deadLetters: 1 });
    expect(w.readings(5_000)).toMatchObject({
      parity_mismatches: 2,
      parity_compared: 100,
      dead_letters_per_min: 6,
    });
    w.push({ atMs: 16_000, parityMismatches: 2, parityCompared: 300, deadLetters: 1 });
    // The baseline is now the 5 s sample: the two mismatches left the window.
    expect(w.readings(16_000)).toMatchObject({ parity_mismatches: 0, parity_compared: 200, soak_ms: 16_000 });
  });

  it('parity mismatches count from the given start (the stage, or the stage plus the grace) within the window', () => {
    const w = new GateWindow(60_000);
    w.push({ atMs: 0, parityMismatches: 0, parityCompared: 0 });
    w.push({ atMs: 1_000, parityMismatches: 1, parityCompared: 10 }); // recorded in the previous stage
    w.push({ atMs: 2_000, parityMismatches: 1, parityCompared: 20 }); // the stage begins at 2 s
    w.push({ atMs: 3_000, parityMismatches: 2, parityCompared: 30 }); // recorded 1 s into the stage
    w.push({ atMs: 9_000, parityMismatches: 3, parityCompared: 40 }); // recorded 7 s into it
    expect(w.readings(7_000).parity_mismatches).toBe(3); // no start: the whole window
    // For an advance: what was recorded since the stage began.
    expect(w.readings(7_000, 2_000).parity_mismatches).toBe(2);
    // For the rollback watch with a 5 s grace: the 3 s one may be an older event's, recorded late.
    expect(w.readings(7_000, 2_000 + 5_000).parity_mismatches).toBe(1);
    // Other counters keep the whole window.
    expect(w.readings(7_000, 7_000).parity_compared).toBe(40);
    // Before the grace has passed nothing is known about the stage's own events: not measured.
    expect(w.readings(7_000, 10_000).parity_mismatches).toBeUndefined();
    // A start older than the window is the window's start.
    w.push({ atMs: 80_000, parityMismatches: 3 });
    expect(w.readings(78_000, 2_000).parity_mismatches).toBe(0);
  });

  it('counts a counter that went down as reset, not as negative', () => {
    const w = new GateWindow(60_000);
    w.push({ atMs: 0, parityMismatches: 5 });
    w.push({ atMs: 1_000, parityMismatches: 1 });
    w.push({ atMs: 2_000, parityMismatches: 3 });
    expect(w.readings(0).parity_mismatches).toBe(3);
  });

  it('an absent source reads as not measured; a gauge reads its newest value', () => {
    const w = new GateWindow(60_000);
    w.push({ atMs: 0, consumerLag: 40 });
    w.push({ atMs: 1, consumerLag: 7 });
    const r = w.readings(0);
    expect(r.consumer_lag).toBe(7);
    expect(r.parity_mismatches).toBeUndefined();
    expect(r.fanout_p99_ms).toBeUndefined();
  });

  it('takes the fan-out p99 from the histogram increase in the window', () => {
    const w = new GateWindow(60_000);
    w.push({ atMs: 0, fanout: hist([1000, 1000, 1000, 1000]) }); // old fast samples, outside the increase
    w.push({ atMs: 1_000, fanout: hist([1000, 1000, 1000, 1100]) }); // 100 new ones, all 100…500 ms
    expect(w.readings(0).fanout_p99_ms).toBeCloseTo(496, 0);
  });

  it('quantile interpolates inside the bucket and needs samples', () => {
    expect(quantile(0.5, undefined, hist([0, 100, 100, 100]))).toBeCloseTo(0.03, 5);
    expect(quantile(0.99, hist([1, 1, 1, 1]), hist([1, 1, 1, 1]))).toBeUndefined();
  });
});
