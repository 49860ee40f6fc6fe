/**
 * Rolling back into a dead legacy lane, over the real broker, the service on devhost with shadow
 * parity and the reference legacy server, which this test stops: an operator's rollback that would
 * send clients to it is refused with the lane's state (UNAVAILABLE, dependency legacy_lane) unless
 * overridden; a gate breach while it is down holds the automatic rollback (stage kept, the hold in the
 * audit trail and in the failures counter the SpacetimeSyncCutoverRollbackFailed alert reads); once
 * the lane serves again the controller rolls back on its own. Every wait is on a condition.
 */
import { execFile } from 'node:child_process';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cutoverConfig } from '../../adapter/cutover/config.js';
import { AdminService, CutoverStage } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import {
  ErrorInfoSchema,
  ErrorReason,
  UnavailableDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { OPERATOR_TOKEN_HEADER } from '../../shared/operator-token.js';
import { DualStack } from '../parity/testing/dual-stack.js';
import { authedTransport, tokenFileEnv } from '../support/auth.js';
import { syncEnvelope } from '../support/envelopes.js';
import { AuthorityLog, ownerTokenFile } from './testing/authority-log.js';

const TOPIC = 'runtime.run_summaries';
const STREAMS = ['run:1', 'run:2'];

const config = cutoverConfig(
  {
    CUTOVER_TICK_MS: '200',
    // Long enough that the injected divergence stays in the window while the lane is down.
    CUTOVER_GATE_WINDOW_MS: '300000',
    CUTOVER_MIN_PARITY_COMPARED: '2',
    CUTOVER_MAX_FANOUT_P99_MS: '10000',
    CUTOVER_MIN_SOAK_SHADOW_MS: '300',
    CUTOVER_MIN_SOAK_CANARY_MS: '300',
  },
  (v, m) => new Error(`${v}: ${m}`),
);

let stack: DualStack;
let log: AuthorityLog;
let adminTokenFile: string;
let cliEnv: Record<string, string>;

/** The CLI as an operator runs it (built dist/, like the runbook tests). */
function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/spacetime-sync.js', ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...cliEnv }, timeout: 120_000 },
      (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

const admin = () => createClient(AdminService, authedTransport(stack.service.httpUrl));
const asOwner = () => ({ headers: { [OPERATOR_TOKEN_HEADER]: stack.ownerToken } });
const state = async () => (await admin().getCutoverState({})).state;
const metrics = async () => (await fetch(`${stack.service.httpUrl}/metrics`)).text();
const metric = async (name: string) => {
  const m = (await metrics()).match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
};

/** Advances once the gates allow it; traffic keeps flowing meanwhile (fresh parity comparisons). */
async function advance(req: { percent?: number; reason: string }) {
  return vi.waitFor(
    async () => {
      try {
        return await admin().advanceCutover({ ...req, actor: 'legacy-down test' }, asOwner());
      } catch (e) {
        await log.produce(1);
        throw e;
      }
    },
    { timeout: 60_000, interval: 300 },
  );
}

beforeAll(async () => {
  stack = await DualStack.start([TOPIC], {
    shadow: { sampleRate: 1, graceMs: 3_000, tickMs: 200 },
    cutover: config,
    probeIntervalMs: 100,
  });
  adminTokenFile = ownerTokenFile(stack);
  log = new AuthorityLog(stack, TOPIC, STREAMS);
  cliEnv = { SPACETIME_SYNC_URL: stack.service.httpUrl, ...(await tokenFileEnv({ roles: ['admin'] })) };
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe('rollback while the legacy lane is down', () => {
  it('refuses an operator rollback into the dead lane, naming its state, unless overridden (CLI --override-legacy-down)', async () => {
    await log.produce(2);
    await advance({ reason: 'start the shadow' });
    await advance({ percent: 50, reason: 'half' });
    expect(await state()).toMatchObject({ stage: CutoverStage.CANARY, canaryPercent: 50 });
    await vi.waitFor(async () => expect(await metric('spacetime_sync_cutover_legacy_lane_up')).toBe(1), {
      timeout: 20_000,
      interval: 200,
    });

    await stack.legacy.stop();
    await vi.waitFor(async () => expect(await metric('spacetime_sync_cutover_legacy_lane_up')).toBe(0), {
      timeout: 30_000,
      interval: 200,
    });
    const refused = await admin()
      .rollbackCutover({ reason: 'drill', actor: 'legacy-down test' }, asOwner())
      .then(
        () => undefined,
        (e) => ConnectError.from(e),
      );
    expect(refused?.code).toBe(Code.Unavailable);
    expect(refused?.findDetails(ErrorInfoSchema)[0]?.reason).toBe(ErrorReason.UNAVAILABLE);
    expect(refused?.findDetails(UnavailableDetailSchema)[0]?.dependency).toBe('legacy_lane');
    expect(refused?.rawMessage).toMatch(
      /^the legacy lane is down \((connecting|backoff)[^)]*\)?.*last delivery \d+ s ago\): rolling back from canary\(50%\) to shadow/,
    );
    expect(await state()).toMatchObject({ stage: CutoverStage.CANARY, canaryPercent: 50 });

    // The operator's command (rollback.md): refused without the override, naming the lane's state…
    const rollback = [
      'cutover',
      'rollback',
      '--to',
      'canary',
      '--percent',
      '10',
      '--token-file',
      adminTokenFile,
    ];
    const plain = await cli([...rollback, '--reason', 'drill: smaller canary']);
    expect(plain.code, plain.err).toBe(1);
    expect(plain.err).toMatch(/Unavailable: the legacy lane is down \(.*\(UNAVAILABLE\)/);
    expect(await state()).toMatchObject({ stage: CutoverStage.CANARY, canaryPercent: 50 });
    // …and made with it: the clients moved wait on the legacy lane until it serves.
    const forced = await cli([...rollback, '--reason', 'drill: lane restarting', '--override-legacy-down']);
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toContain('rollback: canary(50%) -> canary(10%)');
    expect(await state()).toMatchObject({ stage: CutoverStage.CANARY, canaryPercent: 10 });
  }, 240_000);

  it('holds the automatic rollback while the lane is down, records it, and rolls back once the lane is back', async () => {
    // An event only the candidate's feed carries: a parity divergence once the grace has passed.
    await stack.produce(stack.candidateOnly, [
      syncEnvelope('run:9', 'run:9#fault', '{"fault":true}', log.takeSeq(), { authorityTopic: TOPIC }),
    ]);
    const held = await vi.waitFor(
      async () => {
        const s = await admin().getCutoverState({});
        const h = s.history.find((e) => e.move === 'rollback_held');
        expect(h).toBeDefined();
        return { s, h };
      },
      { timeout: 60_000, interval: 200 },
    );
    expect(held.s.state).toMatchObject({ stage: CutoverStage.CANARY, canaryPercent: 10 });
    expect(held.h).toMatchObject({
      automatic: true,
      from: CutoverStage.CANARY,
      fromPercent: 10,
      to: CutoverStage.SHADOW,
      revision: held.s.state?.revision,
    });
    expect(held.h?.reason).toMatch(
      /^gate breach in canary\(10%\): parity_mismatches [1-9]\d* > 0; rollback to shadow held: the legacy lane is down \(/,
    );
    expect(held.h?.gates.find((g) => g.gate === 'parity_mismatches')?.ok).toBe(false);
    // What the SpacetimeSyncCutoverRollbackFailed alert reads; nothing was rolled back.
    expect(await metric('spacetime_sync_cutover_automatic_rollback_failures_total')).toBeGreaterThan(0);
    expect(await metric('spacetime_sync_cutover_automatic_rollbacks_total')).toBe(0);
    // Clients keep their lanes: a client in the canary stays on SpacetimeDB.
    expect((await state())?.stage).toBe(CutoverStage.CANARY);

    await stack.startLegacy();
    await vi.waitFor(async () => expect((await state())?.stage).toBe(CutoverStage.SHADOW), {
      timeout: 60_000,
      interval: 200,
    });
    const s = await admin().getCutoverState({});
    expect(s.history[0]).toMatchObject({
      move: 'rollback',
      automatic: true,
      from: CutoverStage.CANARY,
      fromPercent: 10,
      to: CutoverStage.SHADOW,
    });
    expect(s.history[0]?.reason).toMatch(/^gate breach in canary\(10%\): parity_mismatches/);
    expect(await metric('spacetime_sync_cutover_automatic_rollbacks_total')).toBe(1);
    expect(await metric('spacetime_sync_cutover_legacy_lane_up')).toBe(1);
  }, 240_000);
});
