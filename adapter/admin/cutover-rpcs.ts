/**
 * AdminService's cutover methods, served by the cutover controller: state and gates, advance,
 * rollback, the old lane-based SetCutoverState, and cohort routing. They sit in the same
 * AdminService implementation as the other admin methods, so whatever guards AdminService guards
 * them too. Moves additionally carry the operator's SpacetimeDB token
 * (header `spacetime-sync-operator-token`): the module checks that identity is a cutover admin.
 */
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  CUTOVER_STAGES,
  type CutoverStage,
  type CutoverStageKind,
  stageRank,
} from '../../module/src/cutover-machine.js';
import {
  type AdminService,
  AdvanceCutoverRequestSchema,
  AdvanceCutoverResponseSchema,
  CutoverLane,
  type CutoverState,
  CutoverStateSchema,
  GateReadingSchema,
  GetCutoverStateResponseSchema,
  CutoverStage as ProtoStage,
  RollbackCutoverRequestSchema,
  RollbackCutoverResponseSchema,
  RouteClientRequestSchema,
  RouteClientResponseSchema,
  SetCutoverStateRequestSchema,
  SetCutoverStateResponseSchema,
} from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { SyncError } from '../../shared/errors/sync-error.js';
import { OPERATOR_TOKEN_HEADER } from '../../shared/operator-token.js';

export { OPERATOR_TOKEN_HEADER };

import type { CutoverController, MoveAsk, MoveResult } from '../cutover/controller.js';
import type { GateResult } from '../cutover/gates.js';
import type { CutoverSnapshot } from '../cutover/store.js';
import { contractViolations, invalid } from '../errors/invalid.js';
import { toConnectError } from '../errors/to-connect.js';

const TO_PROTO: Record<CutoverStageKind, ProtoStage> = {
  legacy_only: ProtoStage.LEGACY_ONLY,
  shadow: ProtoStage.SHADOW,
  canary: ProtoStage.CANARY,
  spacetime_primary: ProtoStage.SPACETIME_PRIMARY,
  legacy_retired: ProtoStage.LEGACY_RETIRED,
};
const FROM_PROTO = new Map(CUTOVER_STAGES.map((k) => [TO_PROTO[k], k]));

function laneOf(s: CutoverStage): CutoverLane {
  if (s.kind === 'legacy_only') return CutoverLane.LEGACY;
  return stageRank(s) < stageRank({ kind: 'spacetime_primary' }) ? CutoverLane.DUAL : CutoverLane.SPACETIME;
}

function check<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  const violations = contractViolations(schema, message);
  if (violations.length > 0) throw toConnectError(invalid(violations));
}

function stateMessage(s: CutoverSnapshot): CutoverState {
  return create(CutoverStateSchema, {
    lane: laneOf(s.stage),
    reason: s.reason,
    actor: s.actor,
    changedAt: timestampFromMs(s.changedAtMs),
    revision: s.revision,
    stage: TO_PROTO[s.stage.kind],
    canaryPercent: s.stage.kind === 'canary' ? s.stage.percent : 0,
  });
}

const gateMessages = (gates: readonly GateResult[]) =>
  gates.map((g) =>
    create(GateReadingSchema, {
      gate: g.gate,
      ...(g.reading !== undefined ? { reading: g.reading } : {}),
      threshold: g.threshold,
      bound: g.bound,
      ok: g.ok,
      text: g.text,
    }),
  );

function parseGates(json: string): GateResult[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as GateResult[]) : [];
  } catch {
    return [];
  }
}

const moveMessage = (r: MoveResult) => ({
  state: stateMessage(r.state),
  previous: stateMessage(r.previous),
  gates: gateMessages(r.gates),
});

function ask(
  req: { to?: ProtoStage; percent?: number; reason: string; actor: string; expectedRevision?: bigint },
  ctx: HandlerContext,
): MoveAsk {
  const to = req.to === undefined || req.to === ProtoStage.UNSPECIFIED ? undefined : FROM_PROTO.get(req.to);
  return {
    ...(to !== undefined ? { to } : {}),
    ...(req.percent !== undefined ? { percent: req.percent } : {}),
    reason: req.reason,
    actor: req.actor,
    ...(req.expectedRevision !== undefined ? { expectedRevision: req.expectedRevision } : {}),
    operatorToken: ctx.requestHeader.get(OPERATOR_TOKEN_HEADER)?.trim() || undefined,
  };
}

async function answer<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw toConnectError(e instanceof SyncError ? e : SyncError.from(e));
  }
}

export function cutoverRpcs(c: CutoverController): Partial<ServiceImpl<typeof AdminService>> {
  return {
    getCutoverState() {
      const s = c.status();
      return create(GetCutoverStateResponseSchema, {
        state: stateMessage(s.state),
        gates: gateMessages(s.gates),
        advanceAllowed: s.advanceAllowed,
        history: s.history.map((h) => ({
          revision: h.revision,
          move: h.move,
          automatic: h.automatic,
          from: h.from ? TO_PROTO[h.from.kind] : ProtoStage.UNSPECIFIED,
          fromPercent: h.from?.kind === 'canary' ? h.from.percent : 0,
          to: h.to ? TO_PROTO[h.to.kind] : ProtoStage.UNSPECIFIED,
          toPercent: h.to?.kind === 'canary' ? h.to.percent : 0,
          actor: h.actor,
          sender: h.sender,
          reason: h.reason,
          at: timestampFromMs(h.atMs),
          gates: gateMessages(parseGates(h.gateReadings)),
        })),
      });
    },

    advanceCutover(req, ctx) {
      check(AdvanceCutoverRequestSchema, req);
      return answer(async () =>
        create(AdvanceCutoverResponseSchema, { move: moveMessage(await c.advance(ask(req, ctx))) }),
      );
    },

    rollbackCutover(req, ctx) {
      check(RollbackCutoverRequestSchema, req);
      const a = { ...ask(req, ctx), overrideLegacyDown: req.overrideLegacyDown };
      return answer(async () =>
        create(RollbackCutoverResponseSchema, { move: moveMessage(await c.rollback(a)) }),
      );
    },

    /** The lane-based form: LEGACY = rollback to legacy_only, DUAL = shadow, SPACETIME = primary. */
    setCutoverState(req, ctx) {
      check(SetCutoverStateRequestSchema, req);
      return answer(async () => {
        const to: CutoverStageKind =
          req.lane === CutoverLane.LEGACY
            ? 'legacy_only'
            : req.lane === CutoverLane.DUAL
              ? 'shadow'
              : 'spacetime_primary';
        const current = c.status().state.stage;
        const a = ask(
          {
            to: TO_PROTO[to],
            reason: req.reason,
            actor: req.actor,
            ...(req.expectedRevision !== undefined ? { expectedRevision: req.expectedRevision } : {}),
          },
          ctx,
        );
        const r =
          stageRank({ kind: to } as CutoverStage) > stageRank(current)
            ? await c.advance(a)
            : await c.rollback(a);
        return create(SetCutoverStateResponseSchema, {
          state: stateMessage(r.state),
          previous: stateMessage(r.previous),
        });
      });
    },

    routeClient(req) {
      check(RouteClientRequestSchema, req);
      const r = answerSync(() => c.route(req.clientId));
      return create(RouteClientResponseSchema, {
        lane: r.lane === 'spacetime' ? CutoverLane.SPACETIME : CutoverLane.LEGACY,
        stage: TO_PROTO[r.state.stage.kind],
        canaryPercent: r.state.stage.kind === 'canary' ? r.state.stage.percent : 0,
        revision: r.state.revision,
        bucket: r.bucket,
      });
    },
  };
}

function answerSync<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw toConnectError(e instanceof SyncError ? e : SyncError.from(e));
  }
}
