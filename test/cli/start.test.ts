import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;

/** The environment of a shell with none of the service's settings, and its own local-state dir. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(KAFKA_|SPACETIMEDB_|SPACETIME_SYNC_|INGEST_|DEVHOST_|LOG_LEVEL)/.test(k),
    ),
  ) as Record<string, string>;
  return { ...clean, SPACETIME_SYNC_STATE_DIR: mkdtempSync(join(tmpdir(), 'start-state-')), ...extra };
}

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
}

describe('spacetime-sync start', () => {
  it('runs devhost + adapter on embedded defaults, tells the CLI where (token in a 0600 file, not on stdout), and stops cleanly on SIGTERM', async () => {
    const env = cleanEnv({ DEVHOST_PORT: '0', INGEST_PORT: '0' });
    const child = spawn(process.execPath, [BIN, 'start'], { env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await expect.poll(() => out, { timeout: 30_000 }).toContain('"msg":"ready"');
    expect(out).toContain('Kafka consumer off');
    const http = /ingest \+ \/metrics \/healthz \/readyz on (http:\/\/[\d.:]+)/.exec(out)?.[1];
    expect((await fetch(`${http}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${http}/metrics`)).text()).toContain('spacetime_sync_spacetimedb_connected 1');

    const file = join(env.SPACETIME_SYNC_STATE_DIR as string, 'local.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const local = JSON.parse(readFileSync(file, 'utf8')) as { url: string; ownerToken: string };
    expect(local.url).toBe(http);
    expect(local.ownerToken.length).toBeGreaterThan(20);
    expect(out).not.toContain(local.ownerToken);
    expect(out).toContain(file);
    // The CLI on this machine finds the service without flags.
    const status = spawn(process.execPath, [BIN, 'status'], { env });
    let statusOut = '';
    status.stdout.on('data', (d: Buffer) => {
      statusOut += d.toString();
    });
    expect(await new Promise((r) => status.once('exit', r))).toBe(0);
    expect(statusOut).toContain('(embedded devhost)');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // stdout is not a terminal: one JSON object per line, the banner included, no errors, "stopped" last.
    const records = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(records.filter((r) => r.level >= 50)).toEqual([]);
    expect(records.map((r) => r.msg)).toContain(
      'kafka: Kafka consumer off (set KAFKA_BROKERS to turn it on)',
    );
    expect(records.at(-1)?.msg).toBe('stopped');
    expect(() => statSync(file)).toThrow();
  }, 60_000);

  it('refuses a bad setting with exit 2 and names it', () => {
    const r = run(['start'], cleanEnv({ KAFKA_BROKERS: 'no-port' }));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('KAFKA_BROKERS');
  });

  it('an unknown command prints usage and exits 2', () => {
    const r = run(['frobnicate'], cleanEnv());
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('--help answers from the compiled CLI', () => {
    const r = run(['--help'], cleanEnv());
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('devhost');
  });
});
