/**
 * The Grafana dashboard is importable (a datasource input, unique panel ids, every panel on the
 * grid without overlap), every query is valid PromQL to the real promtool, and every alert's metric
 * has a panel, so the person paged can see what fired.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  alertRules,
  dashboard,
  metricNames,
  panelExprs,
  prometheusBin,
  promtool,
} from '../support/observability.js';

beforeAll(() => {
  prometheusBin();
}, 300_000);

describe('grafana dashboard', () => {
  it('is an importable dashboard bound to a Prometheus datasource input', () => {
    const d = dashboard();
    expect(d.uid).toBe('spacetime-sync');
    expect(d.title).toBe('spacetime-sync');
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', pluginId: 'prometheus' })]);
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: `\${DS_PROMETHEUS}` });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(
        p.targets?.every((t) => t.expr.includes('$instance')),
        p.title,
      ).toBe(true);
    }
  });

  it('no two panels overlap on the 24-column grid', () => {
    const cells = new Map<string, string>();
    for (const p of dashboard().panels) {
      const g = p.gridPos;
      expect(g, p.title).toBeDefined();
      if (!g) continue;
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.get(`${x},${y}`), `${p.title} overlaps`).toBeUndefined();
          cells.set(`${x},${y}`, p.title);
        }
    }
  });

  it('every panel query is valid PromQL (promtool parses each as a recording rule)', async () => {
    const exprs = panelExprs();
    const dir = await mkdtemp(join(tmpdir(), 'dashboard-promql-'));
    const file = join(dir, 'panels.yml');
    writeFileSync(
      file,
      stringify({
        groups: [
          { name: 'panels', rules: exprs.map((e, i) => ({ record: `panel:query:${i}`, expr: e.expr })) },
        ],
      }),
    );
    const r = await promtool(['check', 'rules', file]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`SUCCESS: ${exprs.length} rules found`);
  });

  it("every alert's metrics are on a panel", () => {
    const shown = new Set(panelExprs().flatMap((p) => metricNames(p.expr)));
    for (const rule of alertRules()) {
      for (const m of metricNames(rule.expr)) expect(shown, `${rule.alert} reads ${m}`).toContain(m);
    }
  });
});
