/**
 * The alerting rules, checked and unit-tested by the real promtool: valid, every alert fires in the
 * situation it is for and stays quiet in a look-alike (observability/alerts.test.yml), and every
 * alert tells the on-call person which runbook to open.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertRules, OBSERVABILITY_DIR, prometheusBin, promtool } from '../support/observability.js';

const RULES = `${OBSERVABILITY_DIR}alerts.yml`;
const RULE_TESTS = `${OBSERVABILITY_DIR}alerts.test.yml`;

beforeAll(() => {
  prometheusBin(); // installs promtool into the cache on a machine that has none yet
}, 300_000);

describe('alerting rules', () => {
  it('promtool accepts every rule', async () => {
    const r = await promtool(['check', 'rules', RULES]);
    expect(r.out).toContain(`SUCCESS: ${alertRules().length} rules found`);
    expect(r.code).toBe(0);
  });

  it("promtool's unit tests of the rules pass", async () => {
    const r = await promtool(['test', 'rules', RULE_TESTS]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  it('the unit tests notice a rule that no longer fires (a threshold raised tenfold)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alerts-mutant-'));
    const mutant = readFileSync(RULES, 'utf8').replace('> 10\n', '> 100\n');
    expect(mutant).not.toBe(readFileSync(RULES, 'utf8'));
    writeFileSync(join(dir, 'alerts.yml'), mutant);
    writeFileSync(join(dir, 'alerts.test.yml'), readFileSync(RULE_TESTS, 'utf8'));
    const r = await promtool(['test', 'rules', join(dir, 'alerts.test.yml')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAILED[\s\S]*alertname: SpacetimeSyncRebootstrapStorm/);
  });

  it('every alert has a severity, a summary and a runbook that exists', () => {
    for (const rule of alertRules()) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      const runbook = rule.annotations?.runbook ?? '';
      expect(runbook, rule.alert).toMatch(/^runbooks\/[a-z-]+\.md$/);
      expect(existsSync(new URL(`../../${runbook}`, import.meta.url)), `${rule.alert}: ${runbook}`).toBe(
        true,
      );
    }
  });

  it('every alert is unit-tested both firing and staying quiet', () => {
    const doc = parse(readFileSync(RULE_TESTS, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const cases = doc.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of alertRules()) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} fires in some case`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} stays quiet in some case`,
      ).toBe(true);
    }
  });
});
