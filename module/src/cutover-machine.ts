/**
 * The cutover controller's state machine, pure: the stages clients move through from the legacy lane
 * to SpacetimeDB, and which moves between them are allowed. The module's transition reducer and the
 * service's controller both decide with this one table, so a move the service would refuse cannot be
 * written by another path. Like ./errors.ts it is public to code outside `module/` and imports nothing.
 *
 * Forward moves go one stage at a time (a canary may grow in steps); rollback goes to any earlier
 * stage, including a smaller canary, and from `legacy_retired` too (retirement is a request that can
 * be taken back while the legacy lane still runs).
 */

export const CUTOVER_STAGES = [
  'legacy_only',
  'shadow',
  'canary',
  'spacetime_primary',
  'legacy_retired',
] as const;

export type CutoverStageKind = (typeof CUTOVER_STAGES)[number];

export type CutoverStage =
  | { readonly kind: 'legacy_only' }
  | { readonly kind: 'shadow' }
  /** `percent` of clients (1…99, by a stable hash of their identity) use SpacetimeDB. */
  | { readonly kind: 'canary'; readonly percent: number }
  | { readonly kind: 'spacetime_primary' }
  | { readonly kind: 'legacy_retired' };

export type CutoverMove = 'advance' | 'rollback';

export const MIN_CANARY_PERCENT = 1;
export const MAX_CANARY_PERCENT = 99;

/** Which stage kinds an advance from each kind may reach. Rollback is "any earlier", below. */
export const ADVANCE_TABLE: Readonly<Record<CutoverStageKind, readonly CutoverStageKind[]>> = {
  legacy_only: ['shadow'],
  shadow: ['canary'],
  // canary → canary only to a larger percent (checked in planCutoverMove).
  canary: ['canary', 'spacetime_primary'],
  spacetime_primary: ['legacy_retired'],
  legacy_retired: [],
};

export const isStageKind = (s: string): s is CutoverStageKind =>
  (CUTOVER_STAGES as readonly string[]).includes(s);

/** Position on the way to SpacetimeDB; a canary sits between shadow and primary by its percent. */
export function stageRank(s: CutoverStage): number {
  const base = CUTOVER_STAGES.indexOf(s.kind) * 100;
  return s.kind === 'canary' ? base + s.percent : base;
}

/** The share of clients on SpacetimeDB in a stage (0 before the canary, 100 from primary on). */
export function spacetimePercent(s: CutoverStage): number {
  if (s.kind === 'canary') return s.percent;
  return stageRank(s) > stageRank({ kind: 'canary', percent: MAX_CANARY_PERCENT }) ? 100 : 0;
}

export function formatStage(s: CutoverStage): string {
  return s.kind === 'canary' ? `canary(${s.percent}%)` : s.kind;
}

export const sameStage = (a: CutoverStage, b: CutoverStage): boolean => stageRank(a) === stageRank(b);

/** A stage from its stored form (kind + percent); undefined when the pair is not a stage. */
export function stageFrom(kind: string, percent: number): CutoverStage | undefined {
  if (!isStageKind(kind)) return undefined;
  if (kind === 'canary') {
    if (!Number.isInteger(percent) || percent < MIN_CANARY_PERCENT || percent > MAX_CANARY_PERCENT) {
      return undefined;
    }
    return { kind, percent };
  }
  return percent === 0 ? { kind } : undefined;
}

export type MovePlan =
  | { readonly ok: true; readonly move: CutoverMove; readonly from: CutoverStage; readonly to: CutoverStage }
  | { readonly ok: false; readonly why: string };

/** Whether `move` may take the controller from `from` to `to`, and why not. */
export function planCutoverMove(move: CutoverMove, from: CutoverStage, to: CutoverStage): MovePlan {
  if (stageFrom(to.kind, to.kind === 'canary' ? to.percent : 0) === undefined) {
    return {
      ok: false,
      why: `canary percent must be an integer ${MIN_CANARY_PERCENT}…${MAX_CANARY_PERCENT}`,
    };
  }
  const a = formatStage(from);
  const b = formatStage(to);
  if (sameStage(from, to)) return { ok: false, why: `already in ${a}` };
  const forward = stageRank(to) > stageRank(from);
  if (move === 'rollback') {
    return forward
      ? { ok: false, why: `rollback goes to an earlier stage; ${b} is after ${a}` }
      : { ok: true, move, from, to };
  }
  if (!forward) return { ok: false, why: `advance goes forward; ${b} is before ${a} (use rollback)` };
  if (!ADVANCE_TABLE[from.kind].includes(to.kind)) {
    const next = ADVANCE_TABLE[from.kind];
    return {
      ok: false,
      why:
        next.length === 0
          ? `${a} is the last stage`
          : `${a} advances to ${next.join(' or ')} only, not ${to.kind}`,
    };
  }
  return { ok: true, move, from, to };
}

/** The stage an `advance` without `--to` means: the next one (a canary grows to `percent`). */
export function nextStage(from: CutoverStage, percent?: number): CutoverStage | undefined {
  switch (from.kind) {
    case 'legacy_only':
      return { kind: 'shadow' };
    case 'shadow':
      return { kind: 'canary', percent: percent ?? 10 };
    case 'canary':
      return percent !== undefined ? { kind: 'canary', percent } : { kind: 'spacetime_primary' };
    case 'spacetime_primary':
      return { kind: 'legacy_retired' };
    case 'legacy_retired':
      return undefined;
  }
}

/** The stage a `rollback` without `--to` means: the previous stage kind (a canary goes to shadow). */
export function previousStage(from: CutoverStage): CutoverStage | undefined {
  switch (from.kind) {
    case 'legacy_only':
      return undefined;
    case 'shadow':
      return { kind: 'legacy_only' };
    case 'canary':
      return { kind: 'shadow' };
    case 'spacetime_primary':
      return { kind: 'shadow' };
    case 'legacy_retired':
      return { kind: 'spacetime_primary' };
  }
}
