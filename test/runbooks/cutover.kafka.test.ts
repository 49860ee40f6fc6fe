import { createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cohortBucket } from '../../adapter/cutover/cohort.js';
import { cutoverConfig } from '../../adapter/cutover/config.js';
import { AdminService, CutoverStage } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import type { AuthorityLog } from '../cutover/testing/authority-log.js';
import type { DualStack } from '../parity/testing/dual-stack.js';
import { authedTransport } from '../support/auth.js';
import { explain, runbookSteps, runRunbook, runStep } from '../support/runbook.js';
import { CUTOVER_TOPIC, cutoverRunbookStack } from './testing/cutover-stack.js';

const STREAMS = ['cut:1', 'cut:2'];
const config = cutoverConfig(
  {
    CUTOVER_TICK_MS: '200',
    CUTOVER_GATE_WINDOW_MS: '15000',
    CUTOVER_MIN_PARITY_COMPARED: '3',
    // The machine is shared and slow: the latency SLO is not what this test is about.
    CUTOVER_MAX_FANOUT_P99_MS: '10000',
    CUTOVER_MIN_SOAK_SHADOW_MS: '300',
    CUTOVER_MIN_SOAK_CANARY_MS: '300',
    CUTOVER_MIN_SOAK_PRIMARY_MS: '300',
  },
  (v, m) => new Error(`${v}: ${m}`),
);

/** A device in the first 10 % cohort: on SpacetimeDB from the first canary on. */
const CLIENT_ID = (() => {
  for (let i = 0; ; i++) if (cohortBucket(`desktop-${i}`) < 10) return `desktop-${i}`;
})();

let stack: DualStack;
let env: Record<string, string>;
let log: AuthorityLog;
let traffic: { stop: () => Promise<void> } | undefined;

const admin = () => createClient(AdminService, authedTransport(stack.service.httpUrl));
const metrics = async () => (await fetch(`${stack.service.httpUrl}/metrics`)).text();

/**
 * Authority events keep arriving, as in production: the compared-event floor needs fresh ones. Each
 * batch (one event per stream) goes out once SpacetimeDB has the previous one: paced by the
 * pipeline itself, with no clock in it.
 */
function startTraffic(): { stop: () => Promise<void> } {
  let running = true;
  const committed = () =>
    log.streams.every((s) => (stack.service.writer.stream(s)?.lastSourceSeq ?? 0n) >= log.lastSeqOf(s));
  const loop = (async () => {
    while (running) {
      await log.produce();
      await vi.waitFor(
        () => {
          if (running && !committed()) throw new Error('the last batch is not appended yet');
        },
        { timeout: 120_000 },
      );
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** The situation a stage's "when the gates allow it" waits for. */
async function gatesAllowAdvance(): Promise<void> {
  await vi.waitFor(
    async () => {
      const s = await admin().getCutoverState({});
      expect(s.advanceAllowed, s.gates.map((g) => g.text).join('; ')).toBe(true);
    },
    { timeout: 90_000, interval: 300 },
  );
}

beforeAll(async () => {
  let base: Record<string, string>;
  ({
    stack,
    log,
    env: base,
  } = await cutoverRunbookStack({
    streams: STREAMS,
    cutover: config,
    // A loaded machine can hold one lane seconds behind the other; the grace keeps that from counting.
    graceMs: 20_000,
    change: 'CHG-1307',
    clientId: CLIENT_ID,
  }));
  env = {
    ...base,
    STREAM: 'cut:1',
    PARITY_LEGACY_URL: stack.legacy.url,
    PARITY_SHADOW_TOPICS: CUTOVER_TOPIC,
    LEGACY_LANE_TOKEN: stack.legacyToken,
    SPACETIMEDB_URI: stack.candidateUri,
    SPACETIMEDB_DB: stack.service.database,
    SPACETIMEDB_TOKEN: stack.ownerToken,
  };
  traffic = startTraffic();
}, 180_000);

afterAll(async () => {
  await traffic?.stop();
  await stack?.stop();
});

describe('cutover and rollback runbooks', () => {
  it('cutover.md walks legacy_only → shadow → canary 10 % → 50 % → primary → legacy_retired', async () => {
    const waitForGates = {
      '3. Canary 10 %': gatesAllowAdvance,
      '4. Canary 50 %': gatesAllowAdvance,
      '5. SpacetimeDB primary': gatesAllowAdvance,
      '6. Retire the legacy lane': gatesAllowAdvance,
    };
    const results = await runRunbook('cutover.md', env, { before: waitForGates });
    expect(
      results.map((r) => r.code),
      explain(results),
    ).toEqual(runbookSteps('cutover.md').map(() => 0));
    const out = (heading: string) =>
      results
        .filter((r) => r.step.heading === heading)
        .map((r) => r.out)
        .join('\n');
    expect(out('1. Where we are')).toMatch(/^stage\s+legacy_only\s+revision 0/m);
    expect(out('2. Shadow: compare the lanes, route nobody')).toContain('advance: legacy_only -> shadow');
    const canary = out('3. Canary 10 %');
    expect(canary).toMatch(/advance\s+allowed by the gates/);
    expect(canary).toMatch(/^spacetime_sync_parity_shadow_connected\{lane="legacy"\} 1$/m);
    expect(canary).toMatch(/^spacetime_sync_parity_mismatch_total\{class="missing"\} 0$/m);
    expect(canary).toContain('advance: shadow -> canary(10%)');
    expect(canary).toMatch(new RegExp(`^${CLIENT_ID}: spacetime \\(bucket \\d\\b`, 'm'));
    expect(canary).toMatch(/^spacetime_sync_cutover_stage\{stage="canary"\} 1$/m);
    expect(canary).toMatch(/^spacetime_sync_cutover_canary_percent 10$/m);
    expect(out('4. Canary 50 %')).toContain('advance: canary(10%) -> canary(50%)');
    expect(out('5. SpacetimeDB primary')).toContain('advance: canary(50%) -> spacetime_primary');
    expect(out('6. Retire the legacy lane')).toContain('advance: spacetime_primary -> legacy_retired');
    const confirm = JSON.parse(out('7. Confirm')) as {
      state: { stage: string };
      history: { reason: string; move: string }[];
    };
    expect(confirm.state.stage).toBe('CUTOVER_STAGE_LEGACY_RETIRED');
    expect(confirm.history.map((h) => h.reason)).toEqual([
      'CHG-1307: retire the legacy lane',
      'CHG-1307: every client on SpacetimeDB',
      'CHG-1307: half the clients',
      'CHG-1307: first canary',
      'CHG-1307: start shadow parity',
    ]);
  }, 600_000);

  it('rollback.md after the legacy lane was retired and shut down: back through every stage to legacy_only', async () => {
    expect((await admin().getCutoverState({})).state?.stage).toBe(CutoverStage.LEGACY_RETIRED);
    // Retired, and its owners shut the legacy lane down once it had delivered everything; no authority
    // traffic meanwhile.
    await traffic?.stop();
    traffic = undefined;
    const events = Number(log.lastSeq);
    await expect
      .poll(metrics, { timeout: 60_000 })
      .toMatch(new RegExp(`^spacetime_sync_parity_compared_total ${events}$`, 'm'));
    await stack.legacy.stop();
    await expect
      .poll(metrics, { timeout: 60_000 })
      .toMatch(/^spacetime_sync_parity_shadow_connected\{lane="legacy"\} 0$/m);
    const [legacyCheck] = runbookSteps('rollback.md').filter((s) => s.script.includes('shadow_connected'));
    if (!legacyCheck) throw new Error('rollback.md lost its legacy lane check');
    // While the lane is down, its check refuses: nobody would be sent back to it.
    expect((await runStep(legacyCheck, env)).code).toBe(1);

    // Without traffic the window empties: status exits 1 (no compared events), as after a breach.
    await vi.waitFor(async () => expect((await admin().getCutoverState({})).advanceAllowed).toBe(false), {
      timeout: 60_000,
      interval: 300,
    });

    const results = await runRunbook('rollback.md', env, {
      before: {
        // The lane's owners start it again on its journal; it resumes its consumer group.
        '1. After legacy retirement was requested: is the legacy lane running and current?': async () => {
          await stack.startLegacy();
          await expect
            .poll(metrics, { timeout: 60_000 })
            .toMatch(/^spacetime_sync_parity_shadow_connected\{lane="legacy"\} 1$/m);
        },
      },
      codes: runbookSteps('rollback.md').map((s) => (s.heading.startsWith('0.') ? 1 : 0)),
    });
    expect(
      results.map((r) => r.code),
      explain(results),
    ).toEqual(runbookSteps('rollback.md').map((s) => (s.heading.startsWith('0.') ? 1 : 0)));
    const out = results.map((r) => r.out).join('\n');
    expect(out).toMatch(/^stage\s+legacy_retired\s+revision 5/m);
    expect(out).toContain('rollback: legacy_retired -> spacetime_primary');
    expect(out).toContain('parity OK');
    expect(out).toContain('rollback: spacetime_primary -> canary(10%)');
    expect(out).toContain('rollback: canary(10%) -> shadow');
    expect(out).toContain('rollback: shadow -> legacy_only');
    expect(out).toMatch(new RegExp(`^${CLIENT_ID}: legacy \\(bucket \\d\\b`, 'm'));
    expect(out).toMatch(/^spacetime_sync_cutover_stage\{stage="legacy_only"\} 1$/m);
    expect(out).toMatch(/^spacetime_sync_cutover_canary_percent 0$/m);
    const s = await admin().getCutoverState({});
    expect(s.state?.stage).toBe(CutoverStage.LEGACY_ONLY);
    expect(s.history.filter((h) => h.move === 'rollback' && !h.automatic)).toHaveLength(4);
    expect(s.history.some((h) => h.automatic)).toBe(false);
  }, 600_000);
});
