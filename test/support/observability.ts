/**
 * Test-only: the repo's Prometheus rules and Grafana dashboard as data, the metric names they use,
 * and the real promtool (Debian's, unpacked into the cache by scripts/prometheus.sh).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export const OBSERVABILITY_DIR = new URL('../../observability/', import.meta.url).pathname;
const SCRIPT = new URL('../../scripts/prometheus.sh', import.meta.url).pathname;

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(`${OBSERVABILITY_DIR}alerts.yml`, 'utf8')) as {
    groups: { rules: AlertRule[] }[];
  };
  return doc.groups.flatMap((g) => g.rules);
}

export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos?: { h: number; w: number; x: number; y: number };
  readonly datasource?: { type: string; uid: string };
  readonly targets?: { expr: string; refId: string; legendFormat?: string }[];
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: Panel[];
  readonly __inputs?: { name: string; type: string; pluginId: string }[];
  readonly templating?: { list: { name: string; query?: unknown }[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(`${OBSERVABILITY_DIR}grafana-dashboard.json`, 'utf8')) as Dashboard;
}

/** Every panel query, with Grafana's variables replaced by what makes it plain PromQL. */
export function panelExprs(): { panel: string; expr: string }[] {
  return dashboard().panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title,
      expr: t.expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*'),
    })),
  );
}

/** The metric names an expression reads: ours (spacetime_sync_…), not Prometheus' own `up`. */
export function metricNames(expr: string): string[] {
  return [...new Set(expr.match(/\bspacetime_sync_[a-z0-9_]+\b/g) ?? [])];
}

/** Names a scrape exports: each family's `# TYPE` name and, for histograms, its sample series. */
export function exportedNames(scrape: string): Set<string> {
  const names = new Set<string>();
  for (const m of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** The directory of promtool and prometheus, installing them into the cache if needed. */
export function prometheusBin(): string {
  return execFileSync('bash', [SCRIPT, 'bin'], { encoding: 'utf8', timeout: 300_000 }).trim();
}

export function promtool(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(`${prometheusBin()}/promtool`, args, { timeout: 120_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}
