import { describe, expect, it } from 'vitest';
import { type BenchResult, formatSeries } from './harness.js';

const result = (series: string, opsPerSec: number, seriesCompareTo?: string): BenchResult => ({
  name: `${series} [round]`,
  series,
  ...(seriesCompareTo ? { seriesCompareTo } : {}),
  ops: opsPerSec,
  seconds: 1,
  opsPerSec,
  p50: 1,
  p99: 1,
});

describe('formatSeries', () => {
  it('prints each series median and range and the ratio of medians with per-round ratios', () => {
    const lines = formatSeries([
      result('up', 100),
      result('down', 300, 'up'),
      result('down', 200, 'up'),
      result('up', 200),
      result('up', 400),
      result('down', 250, 'up'),
    ]);
    expect(lines).toEqual([
      'series: up: median 200/s, range 100–400 over 3 rounds (100, 200, 400)',
      'series: down: median 250/s, range 200–300 over 3 rounds (300, 200, 250)',
      'series ratio: down = 1.25 × up (medians; per round 3.00, 1.00, 0.63; ranges overlap)',
    ]);
  });

  it('says when the ranges do not overlap', () => {
    const lines = formatSeries([
      result('a', 10),
      result('b', 30, 'a'),
      result('a', 20),
      result('b', 40, 'a'),
    ]);
    expect(lines.at(-1)).toBe(
      'series ratio: b = 2.33 × a (medians; per round 3.00, 2.00; ranges do not overlap)',
    );
  });
});
