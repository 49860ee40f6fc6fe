import { createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cutoverConfig } from '../../adapter/cutover/config.js';
import { AdminService, CutoverStage } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import type { AuthorityLog } from '../cutover/testing/authority-log.js';
import type { DualStack } from '../parity/testing/dual-stack.js';
import { authedTransport } from '../support/auth.js';
import { syncEnvelope } from '../support/envelopes.js';
import { explain, type RunbookStep, runbookSteps, runStep } from '../support/runbook.js';
import { CUTOVER_TOPIC, cutoverRunbookStack } from './testing/cutover-stack.js';

const STREAMS = ['stop:1', 'stop:2'];
const config = cutoverConfig(
  {
    CUTOVER_TICK_MS: '200',
    // The divergence stays in the window for the whole test.
    CUTOVER_GATE_WINDOW_MS: '300000',
    CUTOVER_MIN_PARITY_COMPARED: '2',
    CUTOVER_MAX_FANOUT_P99_MS: '10000',
    CUTOVER_MIN_SOAK_SHADOW_MS: '300',
  },
  (v, m) => new Error(`${v}: ${m}`),
);

let stack: DualStack;
let env: Record<string, string>;
let log: AuthorityLog;

const admin = () => createClient(AdminService, authedTransport(stack.service.httpUrl));

/** The runbook's blocks under a heading, in order. */
function stepsOf(heading: string): RunbookStep[] {
  const steps = runbookSteps('cutover.md').filter((s) => s.heading === heading);
  if (steps.length === 0) throw new Error(`cutover.md has no step under ${heading}`);
  return steps;
}

beforeAll(async () => {
  ({ stack, log, env } = await cutoverRunbookStack({
    streams: STREAMS,
    cutover: config,
    graceMs: 3_000,
    change: 'CHG-1308',
    clientId: 'desktop-stop',
  }));
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe('cutover.md: when to stop', () => {
  it('a parity gate failing in shadow: the checks of step 3 exit 1 naming the gate, its advance is refused naming it', async () => {
    const [shadow] = stepsOf('2. Shadow: compare the lanes, route nobody');
    if (!shadow) throw new Error('cutover.md lost its shadow step');
    const entered = await runStep(shadow, env);
    expect(entered.code, explain([entered])).toBe(0);
    expect(entered.out).toContain('advance: legacy_only -> shadow');
    await log.produce();
    await log.produce();

    // Mid-stage, one lane carries an event the other does not: a parity divergence once the grace passed.
    await stack.produce(stack.candidateOnly, [
      syncEnvelope('stop:9', 'stop:9#fault', '{"fault":true}', log.takeSeq(), {
        authorityTopic: CUTOVER_TOPIC,
      }),
    ]);
    await vi.waitFor(
      async () => {
        const g = (await admin().getCutoverState({})).gates.find((x) => x.gate === 'parity_mismatches');
        // Failing because of a counted divergence, not only because nothing is measured yet.
        expect(g?.ok).toBe(false);
        expect(g?.text).toMatch(/parity_mismatches [1-9]\d* > 0/);
      },
      { timeout: 60_000, interval: 200 },
    );

    const [check, advance] = stepsOf('3. Canary 10 %');
    if (!check || !advance) throw new Error('cutover.md step 3 lost its check or advance block');
    const checked = await runStep(check, env);
    // `cutover status` exits 1 with a FAIL line naming the gate: the runbook's signal to stop.
    expect(checked.code, explain([checked])).toBe(1);
    expect(checked.out).toMatch(/^advance {3}refused by the gates$/m);
    expect(checked.out).toMatch(/^ {2}FAIL parity_mismatches [1-9]\d* > 0$/m);

    const refused = await runStep(advance, env);
    expect(refused.code, explain([refused])).toBe(1);
    expect(refused.err).toMatch(/gates\.parity_mismatches: parity_mismatches [1-9]\d* > 0/);
    const s = await admin().getCutoverState({});
    expect(s.state?.stage).toBe(CutoverStage.SHADOW);
    expect(s.history.map((h) => `${h.move} ${h.reason}`)).toEqual(['advance CHG-1308: start shadow parity']);
  }, 240_000);
});
