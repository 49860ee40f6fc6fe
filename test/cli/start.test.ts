import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(KAFKA_|SPACETIMEDB_|INGEST_|DEVHOST_|LOG_LEVEL)/.test(k)),
  );
  return spawnSync(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, encoding: 'utf8' });
}

describe('spacetime-sync CLI', () => {
  it('start runs devhost + adapter on embedded defaults, reports where it listens, and stops cleanly on SIGTERM', async () => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(KAFKA_|SPACETIMEDB_|INGEST_|DEVHOST_|LOG_LEVEL)/.test(k),
      ),
    );
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: { ...clean, DEVHOST_PORT: '0', INGEST_PORT: '0', LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await expect.poll(() => out, { timeout: 30_000 }).toContain('spacetime-sync: ready');
    expect(out).toContain('Kafka consumer off');
    const http = /ingest \+ \/metrics \/healthz \/readyz on (http:\/\/[\d.:]+)/.exec(out)?.[1];
    expect((await fetch(`${http}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${http}/metrics`)).text()).toContain('spacetime_sync_spacetimedb_connected 1');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('start refuses a bad setting with exit 2 and names it', () => {
    const r = run(['start'], { KAFKA_BROKERS: 'no-port' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('KAFKA_BROKERS');
  });

  it('an unknown command prints usage and exits 2', () => {
    const r = run(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stderr).toContain('devhost');
  });
});
