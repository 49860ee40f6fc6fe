/**
 * Cutover gates, pure: given live readings over the gate window and the configured thresholds, which
 * gates fail and with what reading. Two questions are asked of them: may the controller advance (every
 * gate, incl. the compared-event floor and the soak time), and must it roll back (the health gates
 * only: little traffic or a young stage is no reason to leave a stage).
 *
 * A reading is `undefined` when it was not measured (no probe sample in the window, no Kafka consumer,
 * no auth metric exported). An unmeasured *required* gate fails an advance — nothing proves the lane
 * healthy — but never triggers a rollback; an unmeasured optional gate passes and says so.
 */
import type { CutoverStageKind } from '../../module/src/cutover-machine.js';

export const GATE_NAMES = [
  'parity_mismatches',
  'parity_compared',
  'fanout_p99_ms',
  'dead_letters_per_min',
  'consumer_lag',
  'rebootstraps_per_min',
  'auth_failures_per_min',
  'soak_ms',
] as const;

export type GateName = (typeof GATE_NAMES)[number];

export type GateReadings = Readonly<Record<GateName, number | undefined>>;

export interface GateThresholds {
  /** How far back the windowed readings look. */
  readonly windowMs: number;
  /** Parity mismatches (every class) allowed in the window. */
  readonly maxParityMismatches: number;
  /** Events the shadow must have compared in the window before an advance. */
  readonly minParityCompared: number;
  /** Fan-out latency SLO: the delivery probe's p99 in the window. */
  readonly maxFanoutP99Ms: number;
  readonly maxDeadLettersPerMin: number;
  /** Kafka consumer lag, summed over partitions. */
  readonly maxConsumerLag: number;
  /** Stale-cursor rebootstraps of the shadow's resuming client. */
  readonly maxRebootstrapsPerMin: number;
  readonly maxAuthFailuresPerMin: number;
  /** Time a stage must have run before an advance out of it. */
  readonly minSoakMs: Readonly<Record<CutoverStageKind, number>>;
}

/** The documented defaults (README "Cutover"). */
export const DEFAULT_GATE_THRESHOLDS: GateThresholds = {
  windowMs: 5 * 60_000,
  maxParityMismatches: 0,
  minParityCompared: 100,
  maxFanoutP99Ms: 100,
  maxDeadLettersPerMin: 1,
  maxConsumerLag: 1000,
  maxRebootstrapsPerMin: 5,
  maxAuthFailuresPerMin: 10,
  minSoakMs: {
    legacy_only: 0,
    shadow: 60 * 60_000,
    canary: 60 * 60_000,
    spacetime_primary: 24 * 60 * 60_000,
    legacy_retired: 0,
  },
};

export interface GateResult {
  readonly gate: GateName;
  readonly reading: number | undefined;
  /** The bound the reading is held to, and on which side it must stay. */
  readonly threshold: number;
  readonly bound: 'max' | 'min';
  readonly ok: boolean;
  /** One line an operator reads: the reading against the bound, or why there is none. */
  readonly text: string;
}

/** Gates whose reading must exist for an advance (the rest pass when their source is absent). */
const REQUIRED: ReadonlySet<GateName> = new Set([
  'parity_mismatches',
  'parity_compared',
  'fanout_p99_ms',
  'soak_ms',
]);
/** Gates a breach of which, in canary or primary, rolls back. */
const HEALTH: ReadonlySet<GateName> = new Set([
  'parity_mismatches',
  'fanout_p99_ms',
  'dead_letters_per_min',
  'consumer_lag',
  'rebootstraps_per_min',
  'auth_failures_per_min',
]);

function bound(gate: GateName, t: GateThresholds, stage: CutoverStageKind): [number, 'max' | 'min'] {
  switch (gate) {
    case 'parity_mismatches':
      return [t.maxParityMismatches, 'max'];
    case 'parity_compared':
      return [t.minParityCompared, 'min'];
    case 'fanout_p99_ms':
      return [t.maxFanoutP99Ms, 'max'];
    case 'dead_letters_per_min':
      return [t.maxDeadLettersPerMin, 'max'];
    case 'consumer_lag':
      return [t.maxConsumerLag, 'max'];
    case 'rebootstraps_per_min':
      return [t.maxRebootstrapsPerMin, 'max'];
    case 'auth_failures_per_min':
      return [t.maxAuthFailuresPerMin, 'max'];
    case 'soak_ms':
      return [t.minSoakMs[stage], 'min'];
  }
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

function judge(gate: GateName, r: GateReadings, t: GateThresholds, stage: CutoverStageKind): GateResult {
  const [threshold, side] = bound(gate, t, stage);
  const reading = r[gate];
  if (reading === undefined) {
    const required = REQUIRED.has(gate);
    return {
      gate,
      reading,
      threshold,
      bound: side,
      ok: !required,
      text: `${gate}: not measured${required ? ' (required)' : ''}`,
    };
  }
  const ok = side === 'max' ? reading <= threshold : reading >= threshold;
  const rel = side === 'max' ? (ok ? '<=' : '>') : ok ? '>=' : '<';
  return {
    gate,
    reading,
    threshold,
    bound: side,
    ok,
    text: `${gate} ${fmt(reading)} ${rel} ${fmt(threshold)}`,
  };
}

/** Every gate judged, for an advance out of `stage`. Leaving `legacy_only` needs no evidence. */
export function advanceGates(r: GateReadings, t: GateThresholds, stage: CutoverStageKind): GateResult[] {
  if (stage === 'legacy_only') return [judge('soak_ms', r, t, stage)];
  return GATE_NAMES.map((g) => judge(g, r, t, stage));
}

/** The health gates judged, for the rollback watch in canary and primary; unmeasured never breaches. */
export function breachGates(r: GateReadings, t: GateThresholds, stage: CutoverStageKind): GateResult[] {
  return GATE_NAMES.filter((g) => HEALTH.has(g)).map((g) => {
    const res = judge(g, r, t, stage);
    return res.reading === undefined ? { ...res, ok: true } : res;
  });
}

/** Stages the rollback watch guards: clients are on SpacetimeDB there. */
export const WATCHED_STAGES: ReadonlySet<CutoverStageKind> = new Set(['canary', 'spacetime_primary']);

export const failing = (results: readonly GateResult[]): GateResult[] => results.filter((r) => !r.ok);
