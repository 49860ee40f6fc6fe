/**
 * The cutover controller's writes. Every move is checked against the one transition table
 * (../cutover-machine.ts) and the revision the caller read, then written with its audit row in the same
 * transaction. Moves come from a cutover admin (an operator's identity, carried through the service's
 * AdminService); the only other writer is the rollback delegate an admin named when entering the
 * stage, and it may only roll back, marked automatic.
 */
import type { Identity } from 'spacetimedb';
import { t } from 'spacetimedb/server';
import { type CutoverMove, type CutoverStage, planCutoverMove, stageFrom } from '../cutover-machine.ts';
import { requireCutoverAdmin } from '../logic/auth.ts';
import { fail } from '../logic/fail.ts';
import spacetimedb, { WRITER_SCOPE } from '../schema.ts';

type Ctx = Parameters<Parameters<typeof spacetimedb.reducer>[1]>[0];

const MAX_REASON = 1024;
const MAX_ACTOR = 256;
const MAX_READINGS = 16_384;

/** Before the first move the controller is in `legacy_only` at revision 0. */
function current(ctx: Ctx): { stage: CutoverStage; revision: bigint; delegate: Identity | undefined } {
  const row = ctx.db.cutover_state.id.find(0);
  if (!row) return { stage: { kind: 'legacy_only' }, revision: 0n, delegate: undefined };
  const stage = stageFrom(row.stage, row.canary_percent);
  if (!stage) throw new Error(`stored cutover stage ${row.stage}/${row.canary_percent} is no stage`);
  return { stage, revision: row.revision, delegate: row.rollback_delegate };
}

function bounded(field: string, value: string, max: number, min = 0): void {
  if (value.length > max || value.length < min) {
    throw fail('invalid', `${field} must be ${min}…${max} characters`, {
      field,
      rule_id: `cutover.${field}.length`,
    });
  }
}

interface MoveArgs {
  readonly move: CutoverMove;
  readonly to: CutoverStage;
  readonly expected_revision: bigint | undefined;
  readonly reason: string;
  readonly actor: string;
  readonly gate_readings: string;
  readonly automatic: boolean;
  readonly rollback_delegate: Identity | undefined;
}

function applyMove(ctx: Ctx, a: MoveArgs): void {
  bounded('reason', a.reason, MAX_REASON, 1);
  bounded('actor', a.actor, MAX_ACTOR, 1);
  bounded('gate_readings', a.gate_readings, MAX_READINGS);
  const now = current(ctx);
  if (a.expected_revision !== undefined && a.expected_revision !== now.revision) {
    throw fail('revision_mismatch', `the cutover moved since revision ${a.expected_revision}`, {
      resource: 'cutover',
      expected_revision: a.expected_revision,
      actual_revision: now.revision,
    });
  }
  const plan = planCutoverMove(a.move, now.stage, a.to);
  if (!plan.ok) throw fail('invalid', plan.why, { field: 'to_stage', rule_id: 'cutover.transition' });
  const percent = (s: CutoverStage) => (s.kind === 'canary' ? s.percent : 0);
  const revision = now.revision + 1n;
  const row = {
    id: 0,
    stage: a.to.kind,
    canary_percent: percent(a.to),
    revision,
    reason: a.reason,
    actor: a.actor,
    changed_by: ctx.sender,
    changed_at: ctx.timestamp,
    rollback_delegate: a.rollback_delegate,
  };
  if (now.revision === 0n && !ctx.db.cutover_state.id.find(0)) ctx.db.cutover_state.insert(row);
  else ctx.db.cutover_state.id.update(row);
  ctx.db.cutover_audit.insert({
    audit_id: 0n,
    revision,
    move: a.move,
    automatic: a.automatic,
    from_stage: now.stage.kind,
    from_percent: percent(now.stage),
    to_stage: a.to.kind,
    to_percent: percent(a.to),
    actor: a.actor,
    sender: ctx.sender,
    reason: a.reason,
    gate_readings: a.gate_readings,
    at: ctx.timestamp,
    writer_scope: WRITER_SCOPE,
  });
}

function target(stage: string, percent: number): CutoverStage {
  const s = stageFrom(stage, percent);
  if (!s) {
    throw fail('invalid', `'${stage}' with percent ${percent} is no cutover stage`, {
      field: 'to_stage',
      rule_id: 'cutover.stage',
    });
  }
  return s;
}

const moveArgs = {
  move: t.string(),
  to_stage: t.string(),
  to_percent: t.u8(),
  expected_revision: t.option(t.u64()),
  reason: t.string(),
  actor: t.string(),
  gate_readings: t.string(),
  /** Who may roll the new stage back on a gate breach without an admin (the service's identity). */
  rollback_delegate: t.option(t.identity()),
};

/** An admin's advance or rollback. */
export const move_cutover = spacetimedb.reducer(moveArgs, (ctx, a) => {
  requireCutoverAdmin(ctx.db, ctx.sender, 'move the cutover');
  if (a.move !== 'advance' && a.move !== 'rollback') {
    throw fail('invalid', `move must be advance or rollback, not '${a.move}'`, {
      field: 'move',
      rule_id: 'cutover.move',
    });
  }
  applyMove(ctx, {
    move: a.move,
    to: target(a.to_stage, a.to_percent),
    expected_revision: a.expected_revision,
    reason: a.reason,
    actor: a.actor,
    gate_readings: a.gate_readings,
    automatic: false,
    rollback_delegate: a.rollback_delegate,
  });
});

/** The delegate's rollback on a gate breach: only a rollback, only by the identity the admin named. */
export const auto_rollback_cutover = spacetimedb.reducer(
  {
    to_stage: t.string(),
    to_percent: t.u8(),
    expected_revision: t.u64(),
    reason: t.string(),
    gate_readings: t.string(),
  },
  (ctx, a) => {
    const now = current(ctx);
    if (!now.delegate?.isEqual(ctx.sender)) {
      throw fail('unauthorized', `${ctx.sender.toHexString()} was not delegated this stage's rollback`, {
        action: 'roll the cutover back automatically',
        resource: 'cutover',
      });
    }
    applyMove(ctx, {
      move: 'rollback',
      to: target(a.to_stage, a.to_percent),
      expected_revision: a.expected_revision,
      reason: a.reason,
      actor: 'automatic rollback',
      gate_readings: a.gate_readings,
      automatic: true,
      rollback_delegate: undefined,
    });
  },
);

/**
 * The delegate's note that it saw a breach but holds the rollback (the legacy lane it would send
 * clients to is down): an audit row, move `rollback_held`, the stage unchanged. Only by the identity
 * the admin named, only for a rollback the table allows, only at the current revision.
 */
export const hold_auto_rollback_cutover = spacetimedb.reducer(
  {
    to_stage: t.string(),
    to_percent: t.u8(),
    expected_revision: t.u64(),
    reason: t.string(),
    gate_readings: t.string(),
  },
  (ctx, a) => {
    const now = current(ctx);
    if (!now.delegate?.isEqual(ctx.sender)) {
      throw fail('unauthorized', `${ctx.sender.toHexString()} was not delegated this stage's rollback`, {
        action: 'hold the cutover rollback',
        resource: 'cutover',
      });
    }
    bounded('reason', a.reason, MAX_REASON, 1);
    bounded('gate_readings', a.gate_readings, MAX_READINGS);
    if (a.expected_revision !== now.revision) {
      throw fail('revision_mismatch', `the cutover moved since revision ${a.expected_revision}`, {
        resource: 'cutover',
        expected_revision: a.expected_revision,
        actual_revision: now.revision,
      });
    }
    const to = target(a.to_stage, a.to_percent);
    const plan = planCutoverMove('rollback', now.stage, to);
    if (!plan.ok) throw fail('invalid', plan.why, { field: 'to_stage', rule_id: 'cutover.transition' });
    const percent = (s: CutoverStage) => (s.kind === 'canary' ? s.percent : 0);
    ctx.db.cutover_audit.insert({
      audit_id: 0n,
      revision: now.revision,
      move: 'rollback_held',
      automatic: true,
      from_stage: now.stage.kind,
      from_percent: percent(now.stage),
      to_stage: to.kind,
      to_percent: percent(to),
      actor: 'automatic rollback',
      sender: ctx.sender,
      reason: a.reason,
      gate_readings: a.gate_readings,
      at: ctx.timestamp,
      writer_scope: WRITER_SCOPE,
    });
  },
);

export const grant_cutover_admin = spacetimedb.reducer(
  { identity: t.identity(), label: t.string() },
  (ctx, { identity, label }) => {
    requireCutoverAdmin(ctx.db, ctx.sender, 'grant cutover admin');
    bounded('label', label, MAX_ACTOR);
    if (ctx.db.cutover_admin.identity.find(identity)) return;
    ctx.db.cutover_admin.insert({ identity, label, granted_at: ctx.timestamp });
  },
);

export const revoke_cutover_admin = spacetimedb.reducer({ identity: t.identity() }, (ctx, { identity }) => {
  requireCutoverAdmin(ctx.db, ctx.sender, 'revoke cutover admin');
  ctx.db.cutover_admin.identity.delete(identity);
});
