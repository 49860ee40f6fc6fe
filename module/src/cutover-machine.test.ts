/**
 * The cutover transition table, cell by cell: every (move, from, to) over a representative stage of
 * each kind (two canary sizes) is either in the allowed list written out below or refused with a reason.
 */
import { describe, expect, it } from 'vitest';
import {
  type CutoverMove,
  type CutoverStage,
  formatStage,
  nextStage,
  planCutoverMove,
  previousStage,
  spacetimePercent,
  stageFrom,
} from './cutover-machine.ts';

const STAGES: readonly CutoverStage[] = [
  { kind: 'legacy_only' },
  { kind: 'shadow' },
  { kind: 'canary', percent: 10 },
  { kind: 'canary', percent: 50 },
  { kind: 'spacetime_primary' },
  { kind: 'legacy_retired' },
];

const ALLOWED_ADVANCES = new Set([
  'legacy_only → shadow',
  'shadow → canary(10%)',
  'shadow → canary(50%)',
  'canary(10%) → canary(50%)',
  'canary(10%) → spacetime_primary',
  'canary(50%) → spacetime_primary',
  'spacetime_primary → legacy_retired',
]);

const ALLOWED_ROLLBACKS = new Set([
  'shadow → legacy_only',
  'canary(10%) → legacy_only',
  'canary(10%) → shadow',
  'canary(50%) → legacy_only',
  'canary(50%) → shadow',
  'canary(50%) → canary(10%)',
  'spacetime_primary → legacy_only',
  'spacetime_primary → shadow',
  'spacetime_primary → canary(10%)',
  'spacetime_primary → canary(50%)',
  'legacy_retired → legacy_only',
  'legacy_retired → shadow',
  'legacy_retired → canary(10%)',
  'legacy_retired → canary(50%)',
  'legacy_retired → spacetime_primary',
]);

const cells = STAGES.flatMap((from) =>
  STAGES.flatMap((to) =>
    (['advance', 'rollback'] as CutoverMove[]).map((move) => ({
      move,
      from,
      to,
      name: `${formatStage(from)} → ${formatStage(to)}`,
    })),
  ),
);

describe('cutover transition table', () => {
  it.each(cells)('$move $name', ({ move, from, to, name }) => {
    const allowed = (move === 'advance' ? ALLOWED_ADVANCES : ALLOWED_ROLLBACKS).has(name);
    const plan = planCutoverMove(move, from, to);
    if (allowed) {
      expect(plan).toEqual({ ok: true, move, from, to });
    } else {
      expect(plan.ok).toBe(false);
      if (!plan.ok) expect(plan.why).toMatch(/already in|earlier|forward|advances to|last stage/);
    }
  });

  it('refuses the moves people get wrong with the reason they need', () => {
    const why = (m: CutoverMove, a: CutoverStage, b: CutoverStage) => {
      const p = planCutoverMove(m, a, b);
      return p.ok ? 'allowed' : p.why;
    };
    expect(why('advance', { kind: 'legacy_only' }, { kind: 'canary', percent: 10 })).toBe(
      'legacy_only advances to shadow only, not canary',
    );
    expect(why('advance', { kind: 'shadow' }, { kind: 'spacetime_primary' })).toBe(
      'shadow advances to canary only, not spacetime_primary',
    );
    expect(why('advance', { kind: 'canary', percent: 50 }, { kind: 'canary', percent: 10 })).toBe(
      'advance goes forward; canary(10%) is before canary(50%) (use rollback)',
    );
    expect(why('rollback', { kind: 'shadow' }, { kind: 'spacetime_primary' })).toBe(
      'rollback goes to an earlier stage; spacetime_primary is after shadow',
    );
    expect(why('advance', { kind: 'legacy_retired' }, { kind: 'legacy_retired' })).toBe(
      'already in legacy_retired',
    );
  });

  it.each([0, 100, 10.5, -3])('refuses a canary of %s percent', (percent) => {
    const p = planCutoverMove('advance', { kind: 'shadow' }, { kind: 'canary', percent });
    expect(p).toEqual({ ok: false, why: 'canary percent must be an integer 1…99' });
  });
});

describe('stages', () => {
  it('reads the stored form back and refuses pairs that are no stage', () => {
    expect(stageFrom('canary', 25)).toEqual({ kind: 'canary', percent: 25 });
    expect(stageFrom('shadow', 0)).toEqual({ kind: 'shadow' });
    expect(stageFrom('shadow', 5)).toBeUndefined();
    expect(stageFrom('canary', 0)).toBeUndefined();
    expect(stageFrom('dual', 0)).toBeUndefined();
  });

  it('knows the share of clients on SpacetimeDB in each stage', () => {
    expect(STAGES.map(spacetimePercent)).toEqual([0, 0, 10, 50, 100, 100]);
  });

  it('names the next and previous stage for moves without --to', () => {
    expect(STAGES.map((s) => nextStage(s)).map((s) => (s ? formatStage(s) : '-'))).toEqual([
      'shadow',
      'canary(10%)',
      'spacetime_primary',
      'spacetime_primary',
      'legacy_retired',
      '-',
    ]);
    expect(nextStage({ kind: 'canary', percent: 10 }, 50)).toEqual({ kind: 'canary', percent: 50 });
    expect(STAGES.map((s) => previousStage(s)).map((s) => (s ? formatStage(s) : '-'))).toEqual([
      '-',
      'legacy_only',
      'shadow',
      'shadow',
      'shadow',
      'spacetime_primary',
    ]);
    // Every default move is one the table allows.
    for (const s of STAGES) {
      const n = nextStage(s);
      if (n) expect(planCutoverMove('advance', s, n).ok).toBe(true);
      const p = previousStage(s);
      if (p) expect(planCutoverMove('rollback', s, p).ok).toBe(true);
    }
  });
});
