/**
 * A mirror failure never slows sync, measured in the deployment's shape (./bridge/stack.ts): the
 * worker draining to a live relay against the relay stopped (the worker backing off, the outbox
 * growing), alternated over BRIDGE_BENCH_ROUNDS rounds (default 5; order up/down, then down/up, so
 * drift in the machine's load falls on both), each case from a fresh data dir, relay and service.
 *
 * Two shapes: a fixed offered load well below saturation (./bridge/fixed-load.ts), which answers the
 * issue's question with a verdict per figure, and the saturating load (./bridge/saturation.ts), where
 * the mirroring's CPU necessarily competes with devhost on a small machine.
 */

import { fixedLoadCase } from './bridge/fixed-load.js';
import { saturationCase } from './bridge/saturation.js';
import type { BenchCase } from './harness.js';

export default function suite(): BenchCase[] {
  const rounds = Number(process.env.BRIDGE_BENCH_ROUNDS ?? '5');
  const alternate = (make: (round: number, down: boolean, last: boolean) => BenchCase) =>
    Array.from({ length: rounds }, (_, i) => {
      const lastRound = i === rounds - 1;
      return i % 2 === 0
        ? [make(i + 1, false, false), make(i + 1, true, lastRound)]
        : [make(i + 1, true, false), make(i + 1, false, lastRound)];
    }).flat();
  return [...alternate(fixedLoadCase), ...alternate((round, down) => saturationCase(round, down))];
}
