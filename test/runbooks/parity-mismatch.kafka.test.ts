/**
 * runbooks/parity-mismatch.md, run as written: both lanes on one authority log with shadow parity in
 * the service, and one event whose payload differs between the lanes' feeds. The runbook shows the
 * class from the metrics and the two payloads from the parity command.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DualStack } from '../parity/testing/dual-stack.js';
import { syncEnvelope } from '../support/envelopes.js';
import { explain, runRunbook } from '../support/runbook.js';

const TOPIC = 'runbook.parity';
let stack: DualStack;
beforeAll(async () => {
  stack = await DualStack.start([TOPIC], { shadow: { sampleRate: 1, graceMs: 1_000, tickMs: 200 } });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const metric = async (line: RegExp) =>
  line.exec(await (await fetch(`${stack.service.httpUrl}/metrics`)).text())?.[1];

it('parity-mismatch.md: a payload that differs between the lanes is found by class and shown byte for byte', async () => {
  const ev = (seq: bigint, body: string) =>
    syncEnvelope('pm:1', `pm:1#${seq}`, body, seq, { authorityTopic: TOPIC });
  await stack.produce(stack.shared, [ev(1n, '{"total":1}'), ev(2n, '{"total":2}')]);
  await expect
    .poll(() => metric(/^spacetime_sync_parity_compared_total (\d+)$/m), { timeout: 60_000 })
    .toBe('2');
  await stack.produce(stack.candidateOnly, [ev(3n, '{"total":3}')]);
  await stack.produce(stack.legacyOnly, [ev(3n, '{"total":"three"}')]);
  await expect
    .poll(() => metric(/^spacetime_sync_parity_mismatch_total\{class="payload_differs"\} (\d+)$/m), {
      timeout: 60_000,
    })
    .toBe('1');

  const results = await runRunbook(
    'parity-mismatch.md',
    {
      SPACETIME_SYNC_URL: stack.service.httpUrl,
      STREAM: 'pm:1',
      PARITY_LEGACY_URL: stack.legacy.url,
      PARITY_SHADOW_TOPICS: TOPIC,
      LEGACY_LANE_TOKEN: stack.legacyToken,
      SPACETIMEDB_URI: stack.candidateUri,
      SPACETIMEDB_DB: stack.service.database,
      SPACETIMEDB_TOKEN: stack.ownerToken,
    },
    { codes: [0, 1] },
  );
  expect(
    results.map((r) => r.code),
    explain(results),
  ).toEqual([0, 1]);
  const [metrics, parity] = results.map((r) => r.out);
  expect(metrics).toMatch(/^spacetime_sync_parity_mismatch_total\{class="payload_differs"\} 1$/m);
  expect(metrics).toMatch(/^spacetime_sync_parity_mismatch_total\{class="missing"\} 0$/m);
  expect(metrics).toMatch(/^spacetime_sync_parity_compared_total 3$/m); // the differing pair was compared too
  expect(metrics).toMatch(/^spacetime_sync_parity_shadow_connected\{lane="legacy"\} 1$/m);
  expect(parity).toMatch(/parity DIVERGED/);
  expect(parity).toMatch(/first divergence: payload_differs/);
  expect(parity).toContain('payload {"total":"three"}');
  expect(parity).toContain('payload {"total":3}');
}, 240_000);
