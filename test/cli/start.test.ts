import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(KAFKA_|SPACETIMEDB_|INGEST_|DEVHOST_|LOG_LEVEL)/.test(k)),
  );
  return spawnSync(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, encoding: 'utf8' });
}

describe('spacetime-sync CLI', () => {
  it('start prints the embedded-default plan', () => {
    const r = run(['start']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('embedded devhost on ws://127.0.0.1:3000');
    expect(r.stdout).toContain('Kafka consumer off');
  });

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
