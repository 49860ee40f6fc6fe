/**
 * The cutover controller's persistent state: the one current stage (a single row, so a restarted
 * service resumes where the last one was), the audit trail of every move, and the identities besides
 * the owner that may move it. Changed only by the reducers in reducers/cutover.ts.
 *
 * `cutover_state` is public: which stage runs is what every client's lane follows, nothing secret.
 * The audit (operators' names and reasons) is public only so row-level security can hand it to
 * writers — the service, which is not the owner — and nobody else (visibility.ts); the admin list is
 * private.
 */
import { t, table } from 'spacetimedb/server';

export const cutover_state = table(
  { name: 'cutover_state', public: true },
  {
    /** Always 0: there is one controller per database. */
    id: t.u8().primaryKey(),
    /** A stage kind of ../cutover-machine.ts. */
    stage: t.string(),
    /** 1…99 in `canary`, else 0. */
    canary_percent: t.u8(),
    /** Bumped on every move; callers name the revision they read (optimistic concurrency). */
    revision: t.u64(),
    reason: t.string(),
    /** Who asked for it: an operator's name, or `automatic rollback`. */
    actor: t.string(),
    changed_by: t.identity(),
    changed_at: t.timestamp(),
    /**
     * The identity an admin let roll this stage back on its own when a gate breaches (the service's).
     * Set by the admin move into the stage; cleared by any later move.
     */
    rollback_delegate: t.option(t.identity()),
  },
);

export const cutover_audit = table(
  { name: 'cutover_audit', public: true },
  {
    audit_id: t.u64().primaryKey().autoInc(),
    /** The revision the move produced. */
    revision: t.u64(),
    /** advance | rollback */
    move: t.string(),
    /** True for a rollback the controller made on a gate breach. */
    automatic: t.bool(),
    from_stage: t.string(),
    from_percent: t.u8(),
    to_stage: t.string(),
    to_percent: t.u8(),
    actor: t.string(),
    sender: t.identity(),
    reason: t.string(),
    /** The gate readings the caller saw when it decided (JSON, as the service's GateResult list). */
    gate_readings: t.string(),
    at: t.timestamp(),
    /** Always WRITER_SCOPE (schema.ts): the join that shows the trail to writers only. */
    writer_scope: t.string(),
  },
);

/** Identities besides the owner allowed to move the cutover (operators' SpacetimeDB identities). */
export const cutover_admin = table(
  { name: 'cutover_admin', public: false },
  {
    identity: t.identity().primaryKey(),
    label: t.string(),
    granted_at: t.timestamp(),
  },
);
