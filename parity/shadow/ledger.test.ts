import { describe, expect, it } from 'vitest';
import type { Classification, Divergence } from '../classify.js';
import { DIVERGENCE_CLASSES } from '../classify.js';
import { latencyStats } from '../stats.js';
import { ShadowLedger } from './ledger.js';

const key = (v: number) => ({ topic: 't', docKey: 's', version: String(v) });
const authority = (v: number) => JSON.stringify(['t', 's', String(v)]);

function look(matched: { v: number; lagMs: number }[], divergences: Divergence[]): Classification {
  const counts = Object.fromEntries(
    DIVERGENCE_CLASSES.map((c) => [c, divergences.filter((d) => d.class === c).length]),
  ) as Classification['counts'];
  return {
    compared: matched.length,
    legacyEvents: 0,
    candidateEvents: 0,
    outOfScope: { legacy: 0, candidate: 0 },
    beforeHorizon: 0,
    divergences,
    counts,
    timeToParityMs: latencyStats(matched.map((m) => m.lagMs)),
    matched: matched.map((m) => ({ key: authority(m.v), lagMs: m.lagMs })),
  };
}

const missing = (v: number, atMs: number): Divergence => ({
  class: 'missing',
  atMs,
  topic: 't',
  streamId: 's',
  key: key(v),
  detail: '',
});

describe('ShadowLedger', () => {
  it('counts each compared event once, with its time to parity', () => {
    const l = new ShadowLedger(1_000);
    expect(l.account(look([{ v: 1, lagMs: 5 }], []), 10_000)).toMatchObject({ compared: 1, lagsMs: [5] });
    const again = l.account(
      look(
        [
          { v: 1, lagMs: 5 },
          { v: 2, lagMs: -3 },
        ],
        [],
      ),
      10_100,
    );
    expect(again).toMatchObject({ compared: 1, lagsMs: [-3] });
  });

  it('counts a one-sided event only after the grace window, and only once', () => {
    const l = new ShadowLedger(1_000);
    expect(l.account(look([], [missing(3, 10_000)]), 10_500).mismatches.size).toBe(0);
    expect(l.account(look([], [missing(3, 10_000)]), 11_000).mismatches.get('missing')).toBe(1);
    expect(l.account(look([], [missing(3, 10_000)]), 12_000).mismatches.size).toBe(0);
  });

  it('a late delivery inside the grace window is compared, never missing', () => {
    const l = new ShadowLedger(1_000);
    l.account(look([], [missing(4, 10_000)]), 10_400);
    const d = l.account(look([{ v: 4, lagMs: 700 }], []), 10_700);
    expect(d).toMatchObject({ compared: 1, lagsMs: [700] });
    expect(d.mismatches.size).toBe(0);
  });

  it('hands out what it counted before a time, and forgets it', () => {
    const l = new ShadowLedger(1_000);
    l.account(look([{ v: 1, lagMs: 1 }], [missing(2, 0)]), 5_000);
    l.account(look([{ v: 5, lagMs: 1 }], []), 9_000);
    expect(l.settled(6_000)).toEqual(new Set([authority(1), authority(2)]));
    l.forget(6_000);
    expect(l.settled(6_000).size).toBe(0);
    expect(l.settled(10_000)).toEqual(new Set([authority(5)]));
  });
});
