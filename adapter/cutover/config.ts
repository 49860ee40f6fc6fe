/**
 * The cutover controller's settings, read with the service's configuration (adapter/config.ts). The
 * controller always runs (it serves the stage and routes clients); these set its gate thresholds,
 * window and tick. Defaults are DEFAULT_GATE_THRESHOLDS (README "Cutover").
 */
import { DEFAULT_GATE_THRESHOLDS, type GateThresholds } from './gates.js';

export interface CutoverConfig {
  readonly thresholds: GateThresholds;
  /** How often the controller samples the live figures and checks for a breach. */
  readonly tickMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;
/** The service's ConfigError, passed in so this file does not import the service's config. */
type Fail = (variable: string, message: string) => Error;

function num(env: Env, name: string, fallback: number, fail: Fail, min = 0): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw fail(name, `'${raw}' is not a number >= ${min}`);
  return n;
}

export function cutoverConfig(env: Env, fail: Fail): CutoverConfig {
  const d = DEFAULT_GATE_THRESHOLDS;
  const soak = (stage: keyof GateThresholds['minSoakMs'], name: string) =>
    num(env, name, d.minSoakMs[stage], fail);
  return {
    tickMs: num(env, 'CUTOVER_TICK_MS', 5_000, fail, 50),
    thresholds: {
      windowMs: num(env, 'CUTOVER_GATE_WINDOW_MS', d.windowMs, fail, 100),
      maxParityMismatches: num(env, 'CUTOVER_MAX_PARITY_MISMATCHES', d.maxParityMismatches, fail),
      minParityCompared: num(env, 'CUTOVER_MIN_PARITY_COMPARED', d.minParityCompared, fail),
      maxFanoutP99Ms: num(env, 'CUTOVER_MAX_FANOUT_P99_MS', d.maxFanoutP99Ms, fail),
      maxDeadLettersPerMin: num(env, 'CUTOVER_MAX_DEAD_LETTERS_PER_MIN', d.maxDeadLettersPerMin, fail),
      maxConsumerLag: num(env, 'CUTOVER_MAX_CONSUMER_LAG', d.maxConsumerLag, fail),
      maxRebootstrapsPerMin: num(env, 'CUTOVER_MAX_REBOOTSTRAPS_PER_MIN', d.maxRebootstrapsPerMin, fail),
      maxAuthFailuresPerMin: num(env, 'CUTOVER_MAX_AUTH_FAILURES_PER_MIN', d.maxAuthFailuresPerMin, fail),
      minSoakMs: {
        legacy_only: 0,
        shadow: soak('shadow', 'CUTOVER_MIN_SOAK_SHADOW_MS'),
        canary: soak('canary', 'CUTOVER_MIN_SOAK_CANARY_MS'),
        spacetime_primary: soak('spacetime_primary', 'CUTOVER_MIN_SOAK_PRIMARY_MS'),
        legacy_retired: 0,
      },
    },
  };
}
