/**
 * The cutover controller in a running service (embedded devhost, no Kafka, no shadow): AdminService's
 * cutover methods as an operator meets them — the stage read from SpacetimeDB, moves only with a
 * cutover admin's token, an advance refused while its gates cannot be shown to pass, concurrent moves
 * applied one at a time, and a restarted service resuming the stored stage. The walk through every
 * stage with live parity is test/cutover/cutover.kafka.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN_HEADER } from '../../adapter/admin/cutover-rpcs.js';
import { cutoverConfig } from '../../adapter/cutover/config.js';
import type { RunningService } from '../../adapter/service.js';
import {
  AdminService,
  CutoverLane,
  CutoverStage,
} from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import {
  ErrorInfoSchema,
  ErrorReason,
  InvalidDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { authedTransport, tokenFileEnv } from '../support/auth.js';
import { connect } from '../support/devhost-harness.js';
import { startTestService } from '../support/service-harness.js';

const dataDir = mkdtempSync(join(tmpdir(), 'cutover-service-'));
const config = cutoverConfig(
  { CUTOVER_TICK_MS: '100', CUTOVER_GATE_WINDOW_MS: '1000' },
  (v, m) => new Error(`${v}: ${m}`),
);
let service: RunningService;
let ownerToken: string;

const start = () =>
  startTestService({
    spacetime: { kind: 'embedded', port: 0, dataDir },
    probeIntervalMs: 0,
    cutover: config,
  });

const admin = () => createClient(AdminService, authedTransport(service.httpUrl));
const as = (token: string | undefined) => (token ? { headers: { [OPERATOR_TOKEN_HEADER]: token } } : {});

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;

/** Runs the CLI without blocking this process (the service it asks lives here). */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const credentials = await tokenFileEnv();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--url', service.httpUrl],
      { env: { ...process.env, ...credentials, SPACETIME_SYNC_URL: '', SPACETIMEDB_TOKEN: '' } },
      (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error('the call was not refused');
}

beforeAll(async () => {
  service = await start();
  ownerToken = service.devhost?.ownerToken as string;
}, 120_000);

afterAll(async () => {
  await service?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('cutover over AdminService', () => {
  it('starts in legacy_only, routing every client to the legacy lane', async () => {
    const s = await admin().getCutoverState({});
    expect(s.state).toMatchObject({
      stage: CutoverStage.LEGACY_ONLY,
      lane: CutoverLane.LEGACY,
      revision: 0n,
    });
    expect(s.advanceAllowed).toBe(true);
    const r = await admin().routeClient({ clientId: 'device-1' });
    expect(r).toMatchObject({ lane: CutoverLane.LEGACY, stage: CutoverStage.LEGACY_ONLY });
  });

  it('refuses a move without a cutover admin token, and with a token that is no admin', async () => {
    const none = await refusal(admin().advanceCutover({ reason: 'go', actor: 'mallory' }));
    expect(none.code).toBe(Code.InvalidArgument);
    expect(none.findDetails(ErrorInfoSchema)[0]?.reason).toBe(ErrorReason.INVALID);
    expect(none.rawMessage).toMatch(/needs a cutover admin's SpacetimeDB token/);
    const stranger = await connect({ url: service.spacetimeUrl }, undefined, service.database);
    stranger.conn.disconnect();
    const notAdmin = await refusal(
      admin().advanceCutover({ reason: 'go', actor: 'mallory' }, as(stranger.token)),
    );
    expect(notAdmin.code).toBe(Code.PermissionDenied);
    expect(notAdmin.message).toMatch(/is not a cutover admin/);
    expect((await admin().getCutoverState({})).state?.revision).toBe(0n);
  });

  it('advances to shadow as the owner, and records who, why and the gates seen', async () => {
    const r = await admin().advanceCutover({ reason: 'start shadow', actor: 'alice' }, as(ownerToken));
    expect(r.move?.previous?.stage).toBe(CutoverStage.LEGACY_ONLY);
    expect(r.move?.state).toMatchObject({
      stage: CutoverStage.SHADOW,
      lane: CutoverLane.DUAL,
      revision: 1n,
      actor: 'alice',
    });
    const s = await admin().getCutoverState({});
    expect(s.history[0]).toMatchObject({
      move: 'advance',
      automatic: false,
      actor: 'alice',
      reason: 'start shadow',
    });
    expect(s.history[0]?.from).toBe(CutoverStage.LEGACY_ONLY);
    expect(s.history[0]?.gates.map((g) => g.gate)).toEqual(['soak_ms']);
    const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/spacetime_sync_cutover_stage\{stage="shadow"\} 1/);
    expect(metrics).toMatch(/spacetime_sync_cutover_transitions_total\{move="advance",automatic="false"\} 1/);
  });

  it('refuses an advance whose gates cannot be shown to pass, naming each', async () => {
    const e = await refusal(
      admin().advanceCutover({ reason: 'canary', actor: 'alice', percent: 10 }, as(ownerToken)),
    );
    expect(e.code).toBe(Code.InvalidArgument);
    const fields = e
      .findDetails(InvalidDetailSchema)[0]
      ?.fieldViolations.map((v) => [v.field, v.description]);
    expect(fields).toEqual(
      expect.arrayContaining([
        ['gates.parity_mismatches', 'parity_mismatches: not measured (required)'],
        ['gates.parity_compared', 'parity_compared: not measured (required)'],
        ['gates.fanout_p99_ms', 'fanout_p99_ms: not measured (required)'],
        ['gates.soak_ms', expect.stringMatching(/^soak_ms \d+ < 3600000$/)],
      ]),
    );
    expect((await admin().getCutoverState({})).state?.stage).toBe(CutoverStage.SHADOW);
  });

  it('refuses a transition the table does not have, with the reason', async () => {
    const e = await refusal(
      admin().advanceCutover(
        { to: CutoverStage.SPACETIME_PRIMARY, reason: 'skip', actor: 'alice' },
        as(ownerToken),
      ),
    );
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.rawMessage).toMatch(/shadow advances to canary only, not spacetime_primary/);
  });

  it('applies concurrent moves one at a time: the audit trail is one unbroken chain', async () => {
    const before = (await admin().getCutoverState({})).state?.revision ?? 0n;
    const calls = Array.from({ length: 6 }, (_, i) =>
      i % 2 === 0
        ? admin().rollbackCutover(
            { to: CutoverStage.LEGACY_ONLY, reason: `back ${i}`, actor: 'bob' },
            as(ownerToken),
          )
        : admin().advanceCutover(
            { to: CutoverStage.SHADOW, reason: `forth ${i}`, actor: 'carol' },
            as(ownerToken),
          ),
    );
    const results = await Promise.allSettled(calls);
    const done = results.filter((r) => r.status === 'fulfilled').length;
    for (const r of results) {
      if (r.status === 'rejected') expect(ConnectError.from(r.reason).rawMessage).toMatch(/already in/);
    }
    const s = await admin().getCutoverState({});
    expect(s.state?.revision).toBe(before + BigInt(done));
    const chain = s.history.slice(0, done).reverse();
    for (let i = 1; i < chain.length; i++) expect(chain[i]?.from).toBe(chain[i - 1]?.to);
    expect(chain[0]?.from).toBe(CutoverStage.SHADOW);
    expect(s.state?.stage).toBe(chain.at(-1)?.to);
    // Which call was applied last is the server's choice (Node 26 has ended this in legacy_only), so
    // the stage this leaves is not fixed; the tests after this one start from shadow.
    if (s.state?.stage !== CutoverStage.SHADOW) {
      await admin().advanceCutover(
        { to: CutoverStage.SHADOW, reason: 'settle', actor: 'carol' },
        as(ownerToken),
      );
    }
    expect((await admin().getCutoverState({})).state?.stage).toBe(CutoverStage.SHADOW);
  });

  it('the cutover CLI: status, refused advance, rollback, route, with documented exit codes', async () => {
    const tokenFile = join(dataDir, 'operator.token');
    writeFileSync(tokenFile, ownerToken, { mode: 0o600 });
    const st = await cli('cutover', 'status');
    expect(st.code).toBe(1); // in shadow with no parity running, the gates refuse an advance
    expect(st.out).toMatch(/^stage {5}shadow {2}revision \d+/);
    expect(st.out).toMatch(/FAIL parity_mismatches: not measured \(required\)/);
    const adv = await cli(
      'cutover',
      'advance',
      '--percent',
      '10',
      '--token-file',
      tokenFile,
      '--actor',
      'cli',
    );
    expect(adv.code).toBe(1);
    expect(adv.err).toMatch(/gates\.parity_compared: parity_compared: not measured/);
    const noToken = await cli('cutover', 'advance');
    expect(noToken.code).toBe(2);
    expect(noToken.err).toMatch(/needs a cutover admin token/);
    const back = await cli('cutover', 'rollback', '--reason', 'drill', '--token-file', tokenFile, '--json');
    expect(back.code).toBe(0);
    expect(JSON.parse(back.out)).toMatchObject({
      state: { stage: 'CUTOVER_STAGE_LEGACY_ONLY' },
      previous: { stage: 'CUTOVER_STAGE_SHADOW' },
    });
    const forth = await cli('cutover', 'advance', '--token-file', tokenFile, '--reason', 'again');
    expect(forth).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^advance: legacy_only -> shadow \(revision \d+\)/),
    });
    const route = await cli('cutover', 'route', 'device-7', '--json');
    expect(route.code).toBe(0);
    expect(JSON.parse(route.out)).toMatchObject({
      lane: 'CUTOVER_LANE_LEGACY',
      stage: 'CUTOVER_STAGE_SHADOW',
    });
    const usage = await cli('cutover', 'advance', '--to', 'shadow', '--percent', '5');
    expect(usage.code).toBe(2);
  });

  it('the older lane-based SetCutoverState moves under the same rules and credentials', async () => {
    const set = (lane: CutoverLane, token?: string) =>
      admin().setCutoverState({ lane, reason: 'lane switch', actor: 'old-tool' }, as(token));
    expect((await refusal(set(CutoverLane.LEGACY))).code).toBe(Code.InvalidArgument);
    expect((await refusal(set(CutoverLane.SPACETIME, ownerToken))).rawMessage).toMatch(
      /shadow advances to canary only/,
    );
    const back = await set(CutoverLane.LEGACY, ownerToken);
    expect(back.previous?.stage).toBe(CutoverStage.SHADOW);
    expect(back.state).toMatchObject({
      stage: CutoverStage.LEGACY_ONLY,
      lane: CutoverLane.LEGACY,
      actor: 'old-tool',
    });
    expect((await set(CutoverLane.DUAL, ownerToken)).state?.stage).toBe(CutoverStage.SHADOW);
  });

  it('a restarted service resumes the stored stage and revision', async () => {
    await admin()
      .advanceCutover({ to: CutoverStage.SHADOW, reason: 'settle', actor: 'alice' }, as(ownerToken))
      .catch(() => {});
    const before = (await admin().getCutoverState({})).state;
    await service.stop();
    service = await start();
    const after = (await admin().getCutoverState({})).state;
    expect(after).toMatchObject({ stage: before?.stage, revision: before?.revision, actor: before?.actor });
    expect(after?.changedAt).toEqual(before?.changedAt);
  });
});
