/**
 * The controller's metric families. Labels are closed sets: the five stage kinds, the gate names,
 * advance/rollback, and the refusal kinds.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { CUTOVER_STAGES, type CutoverStage } from '../../module/src/cutover-machine.js';
import type { LegacyLaneHealth } from '../../parity/collect/legacy.js';
import { GATE_NAMES, type GateReadings, type GateResult } from './gates.js';

export type RefusalKind =
  | 'transition'
  | 'gates'
  | 'unauthorized'
  | 'revision'
  | 'unavailable'
  | 'legacy_down';

export function createCutoverMetrics(registry: Registry) {
  const p = 'spacetime_sync_cutover_';
  const registers = [registry];
  const m = {
    stage: new Gauge({
      name: `${p}stage`,
      help: '1 for the current cutover stage, 0 for the others',
      labelNames: ['stage'],
      registers,
    }),
    canaryPercent: new Gauge({
      name: `${p}canary_percent`,
      help: 'Canary percentage (0 outside the canary stage)',
      registers,
    }),
    revision: new Gauge({ name: `${p}revision`, help: 'Revision of the stored cutover state', registers }),
    gateReading: new Gauge({
      name: `${p}gate_reading`,
      help: 'Each gate reading over the gate window (NaN: not measured)',
      labelNames: ['gate'],
      registers,
    }),
    gateThreshold: new Gauge({
      name: `${p}gate_threshold`,
      help: 'Each gate threshold',
      labelNames: ['gate'],
      registers,
    }),
    gateOk: new Gauge({
      name: `${p}gate_ok`,
      help: '1 while the gate allows an advance out of the current stage',
      labelNames: ['gate'],
      registers,
    }),
    transitions: new Counter({
      name: `${p}transitions_total`,
      help: 'Cutover moves made by this service, by move and whether automatic',
      labelNames: ['move', 'automatic'],
      registers,
    }),
    automaticRollbacks: new Counter({
      name: `${p}automatic_rollbacks_total`,
      help: 'Rollbacks the controller made on a gate breach',
      registers,
    }),
    automaticRollbackFailures: new Counter({
      name: `${p}automatic_rollback_failures_total`,
      help: 'Gate breaches the controller could not roll back (not delegated, SpacetimeDB refused or down, or held: the legacy lane is down)',
      registers,
    }),
    legacyLaneUp: new Gauge({
      name: `${p}legacy_lane_up`,
      help: "1 while the legacy lane serves shadow parity's client, 0 while down (NaN: not watched, shadow parity off)",
      registers,
    }),
    refused: new Counter({
      name: `${p}refused_total`,
      help: 'Cutover moves refused, by why',
      labelNames: ['why'],
      registers,
    }),
  };
  for (const g of GATE_NAMES) m.gateOk.set({ gate: g }, 0);
  return {
    ...m,
    showStage(s: CutoverStage, revision: bigint): void {
      for (const k of CUTOVER_STAGES) m.stage.set({ stage: k }, k === s.kind ? 1 : 0);
      m.canaryPercent.set(s.kind === 'canary' ? s.percent : 0);
      m.revision.set(Number(revision));
    },
    showLegacyLane(h: LegacyLaneHealth | undefined): void {
      m.legacyLaneUp.set(h === undefined ? Number.NaN : h.up ? 1 : 0);
    },
    /** Every reading, and the judgement of the gates an advance out of the current stage checks. */
    showGates(readings: GateReadings, gates: readonly GateResult[]): void {
      for (const g of GATE_NAMES) m.gateReading.set({ gate: g }, readings[g] ?? Number.NaN);
      for (const g of gates) {
        m.gateThreshold.set({ gate: g.gate }, g.threshold);
        m.gateOk.set({ gate: g.gate }, g.ok ? 1 : 0);
      }
    },
  };
}

export type CutoverMetrics = ReturnType<typeof createCutoverMetrics>;
