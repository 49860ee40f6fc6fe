/**
 * Every metric an alerting rule or a dashboard panel reads is exported by a running service: the
 * real service with Kafka, the delivery probe and shadow parity against the legacy-lane reference
 * server, scraped over HTTP like Prometheus does. A renamed metric fails here, not on a silent
 * dashboard or an alert that can never fire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DualStack } from '../parity/testing/dual-stack.js';
import { alertRules, exportedNames, metricNames, panelExprs } from '../support/observability.js';

let stack: DualStack;
beforeAll(async () => {
  stack = await DualStack.start(['runtime.run_summaries'], {
    shadow: { sampleRate: 1, graceMs: 1_000, tickMs: 200 },
    processMetrics: true,
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${stack.service.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

describe('metric names', () => {
  it('the rules and the dashboard name metrics at all (the extraction finds them)', () => {
    expect(alertRules().flatMap((r) => metricNames(r.expr)).length).toBeGreaterThanOrEqual(10);
    expect(panelExprs().flatMap((p) => metricNames(p.expr)).length).toBeGreaterThanOrEqual(25);
  });

  it('every metric a rule or a panel names is exported by the running service', async () => {
    const exported = exportedNames(await scrape());
    const missing = [
      ...alertRules().flatMap((r) => metricNames(r.expr).map((m) => `alert ${r.alert}: ${m}`)),
      ...panelExprs().flatMap((p) => metricNames(p.expr).map((m) => `panel "${p.panel}": ${m}`)),
    ].filter((ref) => !exported.has(ref.slice(ref.lastIndexOf(' ') + 1)));
    expect(missing).toEqual([]);
  });

  it('a name the service does not export is reported (the check can fail)', async () => {
    const exported = exportedNames(await scrape());
    expect(exported.has('spacetime_sync_dead_letter_total')).toBe(true);
    expect(exported.has('spacetime_sync_probe_fanout_seconds_bucket')).toBe(true);
    expect(exported.has('spacetime_sync_dead_letters_total')).toBe(false);
  });
});
