/**
 * The cutover controller: serves the stage stored in SpacetimeDB, moves it when an operator asks
 * (advance only when the gates allow it), watches the gates every tick and rolls back on its own when
 * one breaches in canary or primary. Moves — the operators' and the automatic ones — run one at a
 * time, each re-reading the stored state after every await and naming the revision it decided on,
 * so a move decided on a stale state is refused by the module instead of applied.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  type CutoverMove,
  type CutoverStage,
  formatStage,
  nextStage,
  planCutoverMove,
  previousStage,
} from '../../module/src/cutover-machine.js';
import { isSyncError, SyncError } from '../../shared/errors/sync-error.js';
import { laneFor } from './cohort.js';
import type { CutoverConfig } from './config.js';
import { GateWindow } from './gate-window.js';
import {
  advanceGates,
  breachGates,
  failing,
  type GateReadings,
  type GateResult,
  WATCHED_STAGES,
} from './gates.js';
import {
  describeLegacyLane,
  type LegacyLaneHealth,
  legacyLaneDown,
  sendsClientsToLegacy,
} from './legacy-lane.js';
import { sampleFigures } from './live-figures.js';
import { type CutoverMetrics, createCutoverMetrics, type RefusalKind } from './metrics.js';
import { failingGates, missingOperatorToken, refusedTransition } from './refusals.js';
import type { AuditEntry, CutoverSnapshot, CutoverStore } from './store.js';

export interface MoveAsk {
  /** Unset: the next stage (advance) or the previous one (rollback). */
  readonly to?: CutoverStage['kind'];
  readonly percent?: number;
  readonly reason: string;
  readonly actor: string;
  readonly expectedRevision?: bigint;
  /** The operator's SpacetimeDB token: the module checks that identity is a cutover admin. */
  readonly operatorToken: string | undefined;
  /** A rollback that sends clients to a legacy lane seen down is refused unless this is set. */
  readonly overrideLegacyDown?: boolean;
}

export interface MoveResult {
  readonly previous: CutoverSnapshot;
  readonly state: CutoverSnapshot;
  readonly gates: readonly GateResult[];
}

export interface CutoverStatus {
  readonly state: CutoverSnapshot;
  readonly readings: GateReadings;
  readonly gates: readonly GateResult[];
  readonly advanceAllowed: boolean;
  readonly history: readonly AuditEntry[];
  /** The legacy lane as the service sees it; undefined when it has no link to it (shadow parity off). */
  readonly legacyLane: LegacyLaneHealth | undefined;
}

type Life =
  | { readonly t: 'idle' }
  | { readonly t: 'running'; readonly timer: NodeJS.Timeout }
  | { readonly t: 'stopped' };

export class CutoverController {
  private life: Life = { t: 'idle' };
  private chain: Promise<unknown> = Promise.resolve();
  private readonly window: GateWindow;
  private readonly metrics: CutoverMetrics;
  private ticking = false;
  /** The revision a failed automatic rollback was last logged for (logged once per stage). */
  private failedAutoAt: bigint | undefined;
  /** The revision a held automatic rollback was last recorded in the audit trail for. */
  private heldAt: bigint | undefined;

  constructor(
    private readonly o: {
      readonly store: CutoverStore;
      readonly registry: Registry;
      readonly config: CutoverConfig;
      readonly logger: Logger;
      readonly kafkaRunning: () => boolean;
      /** Shadow parity's grace (PARITY_SHADOW_GRACE_MS): how late it records a divergence. */
      readonly parityGraceMs?: number;
      /** The legacy lane's state (shadow parity's client); undefined: not known, rollbacks not held. */
      readonly legacyLane?: () => LegacyLaneHealth | undefined;
    },
  ) {
    this.window = new GateWindow(o.config.thresholds.windowMs);
    this.metrics = createCutoverMetrics(o.registry);
    o.store.onChange((s) => this.metrics.showStage(s.stage, s.revision));
  }

  async start(): Promise<void> {
    if (this.life.t !== 'idle') return;
    try {
      const s = this.o.store.snapshot();
      this.metrics.showStage(s.stage, s.revision);
      this.o.logger.info(
        { stage: formatStage(s.stage), revision: String(s.revision) },
        'cutover controller resumed',
      );
      await this.sample();
    } catch (e) {
      // The service's start waited for the stored state, but SpacetimeDB can be gone again by now (a
      // host crash between two start steps ended an adapter's start in the chaos long run): the
      // ticks read the state once the store reconnects, as after any later drop.
      if (!isSyncError(e, 'unavailable')) throw e;
      this.o.logger.warn(
        { err: e.message },
        'cutover controller started while SpacetimeDB is away; it reads the stage once the store reconnects',
      );
    }
    if (this.life.t !== 'idle') return;
    const timer = setInterval(() => void this.tick(), this.o.config.tickMs);
    timer.unref();
    this.life = { t: 'running', timer };
  }

  stop(): void {
    const life = this.life;
    this.life = { t: 'stopped' };
    if (life.t === 'running') clearInterval(life.timer);
  }

  private async sample(): Promise<GateReadings> {
    this.window.push(await sampleFigures(this.o.registry, Date.now(), this.o.kafkaRunning()));
    const s = this.o.store.snapshot();
    const r = this.advanceReadings(s);
    this.metrics.showGates(r, advanceGates(r, this.o.config.thresholds, s.stage.kind));
    this.metrics.showLegacyLane(this.o.legacyLane?.());
    return r;
  }

  /** For an advance: parity mismatches recorded since the stage began. */
  private advanceReadings(s: CutoverSnapshot): GateReadings {
    return this.window.readings(Math.max(0, Date.now() - s.changedAtMs), s.changedAtMs);
  }

  /** For the rollback watch: parity mismatches of the stage's own events (recorded a grace later). */
  private breachReadings(s: CutoverSnapshot): GateReadings {
    return this.window.readings(
      Math.max(0, Date.now() - s.changedAtMs),
      s.changedAtMs + (this.o.parityGraceMs ?? 0),
    );
  }

  status(): CutoverStatus {
    const state = this.o.store.snapshot();
    const readings = this.advanceReadings(state);
    const gates = advanceGates(readings, this.o.config.thresholds, state.stage.kind);
    return {
      state,
      readings,
      gates,
      advanceAllowed: failing(gates).length === 0,
      history: this.o.store.history(20),
      legacyLane: this.o.legacyLane?.(),
    };
  }

  route(clientId: string): { lane: 'legacy' | 'spacetime'; bucket: number; state: CutoverSnapshot } {
    const state = this.o.store.snapshot();
    return { ...laneFor(clientId, state.stage), state };
  }

  advance(ask: MoveAsk): Promise<MoveResult> {
    return this.serialized(() => this.move('advance', ask));
  }

  rollback(ask: MoveAsk): Promise<MoveResult> {
    return this.serialized(() => this.move('rollback', ask));
  }

  /** One move at a time, whoever asks (operators, the breach watch). */
  private serialized<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f);
    this.chain = run.catch(() => {});
    return run;
  }

  private refuse(kind: RefusalKind, e: SyncError): SyncError {
    this.metrics.refused.inc({ why: kind });
    this.o.logger.info({ why: e.message, kind }, 'cutover move refused');
    return e;
  }

  private async move(move: CutoverMove, ask: MoveAsk): Promise<MoveResult> {
    if (!ask.operatorToken) {
      // A missing part of the request, not a refused identity: the caller passed the service's own
      // authorization already, and the module decides about the identity once the token is there.
      throw this.refuse('unauthorized', missingOperatorToken());
    }
    const readings = await this.sample();
    const before = this.o.store.snapshot(); // read after the await: this is the state decided on
    if (ask.expectedRevision !== undefined && ask.expectedRevision !== before.revision) {
      throw this.refuse(
        'revision',
        new SyncError(
          'revision_mismatch',
          `the cutover is at revision ${before.revision}, not ${ask.expectedRevision}`,
        ),
      );
    }
    const target = this.target(move, before.stage, ask);
    const plan = planCutoverMove(move, before.stage, target);
    if (!plan.ok) throw this.refuse('transition', refusedTransition(plan.why));
    const gates = advanceGates(readings, this.o.config.thresholds, before.stage.kind);
    if (move === 'advance' && failing(gates).length > 0)
      throw this.refuse('gates', failingGates(failing(gates)));
    const lane = this.o.legacyLane?.();
    if (lane && !lane.up && sendsClientsToLegacy(before.stage, target)) {
      if (!ask.overrideLegacyDown)
        throw this.refuse('legacy_down', legacyLaneDown(lane, before.stage, target));
      this.o.logger.warn(
        { from: formatStage(before.stage), to: formatStage(target), legacyLane: describeLegacyLane(lane) },
        'cutover rollback into a legacy lane that is down, by override',
      );
    }
    const delegate = WATCHED_STAGES.has(target.kind) ? this.o.store.identity : undefined;
    try {
      await this.o.store.moveAs(ask.operatorToken, {
        move,
        to: target,
        expectedRevision: before.revision,
        reason: ask.reason,
        actor: ask.actor,
        gateReadings: JSON.stringify(gates),
        rollbackDelegate: delegate,
      });
    } catch (e) {
      const err = isSyncError(e) ? e : SyncError.from(e);
      const kind: RefusalKind =
        err.reason === 'unauthorized'
          ? 'unauthorized'
          : err.reason === 'revision_mismatch'
            ? 'revision'
            : err.reason === 'invalid'
              ? 'transition'
              : 'unavailable';
      throw this.refuse(kind, err);
    }
    const state = this.o.store.snapshot();
    this.metrics.transitions.inc({ move, automatic: 'false' });
    this.o.logger.info(
      {
        move,
        from: formatStage(before.stage),
        to: formatStage(state.stage),
        actor: ask.actor,
        reason: ask.reason,
        revision: String(state.revision),
      },
      `cutover ${move}`,
    );
    return { previous: before, state, gates };
  }

  private target(move: CutoverMove, from: CutoverStage, ask: MoveAsk): CutoverStage {
    if (ask.to === undefined) {
      const t = move === 'advance' ? nextStage(from, ask.percent) : previousStage(from);
      if (!t)
        throw this.refuse(
          'transition',
          refusedTransition(`there is no stage to ${move} to from ${formatStage(from)}`),
        );
      return t;
    }
    if (ask.to === 'canary') {
      if (ask.percent === undefined)
        throw this.refuse('transition', refusedTransition('a canary needs a percent'));
      return { kind: 'canary', percent: ask.percent };
    }
    return { kind: ask.to };
  }

  /** Every tick: sample the figures; in canary or primary, a breached health gate rolls back. */
  async tick(): Promise<void> {
    if (this.life.t !== 'running' || this.ticking) return;
    this.ticking = true;
    try {
      await this.sample();
      if (this.life.t !== 'running') return;
      const seen = this.o.store.snapshot();
      if (!WATCHED_STAGES.has(seen.stage.kind)) return;
      const readings = this.breachReadings(seen);
      const breached = failing(breachGates(readings, this.o.config.thresholds, seen.stage.kind));
      if (breached.length === 0) return;
      await this.serialized(() => this.autoRollback(seen, readings, breached));
    } catch (e) {
      this.o.logger.error({ err: String(e) }, 'cutover tick failed');
    } finally {
      this.ticking = false;
    }
  }

  private async autoRollback(
    seen: CutoverSnapshot,
    readings: GateReadings,
    breached: GateResult[],
  ): Promise<void> {
    const now = this.o.store.snapshot();
    if (now.revision !== seen.revision) return; // someone moved it meanwhile: the next tick judges again
    const reason = `gate breach in ${formatStage(now.stage)}: ${breached.map((g) => g.text).join('; ')}`;
    const gates = breachGates(readings, this.o.config.thresholds, now.stage.kind);
    const to: CutoverStage = { kind: 'shadow' };
    if (now.rollbackDelegate === undefined || now.rollbackDelegate !== this.o.store.identity) {
      this.failedAuto(now, reason, 'this service was not delegated the rollback of this stage');
      return;
    }
    // Clients stay where they are rather than move to a lane that does not serve; every tick judges
    // again, so the rollback happens once the lane is back (if the breach still stands).
    const lane = this.o.legacyLane?.();
    if (lane && !lane.up && sendsClientsToLegacy(now.stage, to)) {
      const why = `the legacy lane is down (${describeLegacyLane(lane)}): held in ${formatStage(now.stage)}`;
      this.failedAuto(now, reason, why);
      await this.recordHeld(now, to, `${reason}; rollback to ${formatStage(to)} held: ${why}`, gates);
      return;
    }
    try {
      await this.o.store.autoRollback(to, now.revision, reason, JSON.stringify(gates));
    } catch (e) {
      this.failedAuto(now, reason, String(e));
      return;
    }
    this.metrics.automaticRollbacks.inc();
    this.metrics.transitions.inc({ move: 'rollback', automatic: 'true' });
    this.o.logger.warn(
      { from: formatStage(now.stage), to: formatStage(to), reason, revision: String(now.revision + 1n) },
      'cutover rolled back automatically',
    );
  }

  /** Once per stage: the held rollback in the audit trail (as the delegate; best effort). */
  private async recordHeld(
    now: CutoverSnapshot,
    to: CutoverStage,
    reason: string,
    gates: readonly GateResult[],
  ): Promise<void> {
    if (this.heldAt === now.revision) return;
    try {
      await this.o.store.holdAutoRollback(to, now.revision, reason.slice(0, 1024), JSON.stringify(gates));
      this.heldAt = now.revision;
    } catch (e) {
      this.o.logger.error({ err: String(e) }, 'cutover: could not record the held rollback');
    }
  }

  private failedAuto(now: CutoverSnapshot, reason: string, why: string): void {
    this.metrics.automaticRollbackFailures.inc();
    if (this.failedAutoAt === now.revision) return;
    this.failedAutoAt = now.revision;
    this.o.logger.error(
      { stage: formatStage(now.stage), reason, why },
      'cutover gate breach: automatic rollback failed',
    );
  }
}
