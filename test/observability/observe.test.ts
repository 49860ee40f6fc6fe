/**
 * `npm run observe`: a real Prometheus scrapes a running service with the repo's rules loaded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import { freePort } from '../support/free-port.js';
import { alertRules, prometheusBin } from '../support/observability.js';
import { startTestService } from '../support/service-harness.js';

const SCRIPT = new URL('../../scripts/prometheus.sh', import.meta.url).pathname;
let service: RunningService;
let prometheus: ChildProcess;
let url: string;
let output = '';

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${url}/api/v1/${path}`);
  return ((await res.json()) as { data: T }).data;
}

beforeAll(async () => {
  prometheusBin();
  service = await startTestService();
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  prometheus = spawn('bash', [SCRIPT, 'observe'], {
    env: {
      ...process.env,
      SPACETIME_SYNC_URL: service.httpUrl,
      PROMETHEUS_PORT: String(port),
      TMPDIR: await mkdtemp(join(tmpdir(), 'observe-')),
    },
  });
  prometheus.stdout?.on('data', (b) => {
    output += String(b);
  });
  prometheus.stderr?.on('data', (b) => {
    output += String(b);
  });
}, 300_000);

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await service?.stop();
});

describe('npm run observe', () => {
  it('says where Prometheus is, scrapes the service as job spacetime-sync, and loads every alert', async () => {
    await expect
      .poll(() => output, { timeout: 30_000 })
      .toContain(`prometheus on ${url} scraping ${service.httpUrl}`);
    await expect
      .poll(
        async () => {
          try {
            const r = await api<{ result: { metric: { job: string }; value: [number, string] }[] }>(
              'query?query=spacetime_sync_ready',
            );
            return r.result.map((x) => `${x.metric.job} ${x.value[1]}`);
          } catch {
            return [];
          }
        },
        { timeout: 60_000, interval: 500 },
      )
      .toEqual(['spacetime-sync 1']);
    const rules = await api<{ groups: { rules: { name: string; health: string }[] }[] }>('rules');
    const loaded = rules.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(
      alertRules()
        .map((r) => r.alert)
        .sort(),
    );
    expect(loaded.every((r) => r.health !== 'err')).toBe(true);
  }, 120_000);
});
