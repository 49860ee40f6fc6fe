import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
const PUBLIC_KEY_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
  type: 'spki',
  format: 'pem',
}) as string;

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
    // 'close', not 'exit': the last stdout lines can still be in the pipe when 'exit' fires.
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
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

    // Every Connect call needs a token, even on loopback; the local issuer's key is the user's alone.
    const keyFile = join(env.SPACETIME_SYNC_STATE_DIR as string, 'local-issuer.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const getStatus = (headers: Record<string, string> = {}) =>
      fetch(`${http}/spacetime_sync.v1.AdminService/GetStatus`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    expect((await getStatus()).status).toBe(401);
    // `token` prints the token and nothing else, for $(…) in a curl line.
    const token = run(['token', '--role', 'operator'], env);
    expect(token.status).toBe(0);
    expect(token.stderr).toBe('');
    expect(token.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect((await getStatus({ authorization: `Bearer ${token.stdout.trim()}` })).status).toBe(200);
    const publisher = run(['token', '--role', 'publisher', '--streams', 'orders:'], env).stdout.trim();
    expect((await getStatus({ authorization: `Bearer ${publisher}` })).status).toBe(403);
    // A desktop client's token routes its own id and nothing else; it needs the id as its subject.
    expect(run(['token', '--role', 'client'], env).status).toBe(2);
    const client = run(['token', '--role', 'client', '--subject', 'device-7'], env).stdout.trim();
    const route = (clientId: string) =>
      fetch(`${http}/spacetime_sync.v1.AdminService/RouteClient`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${client}` },
        body: JSON.stringify({ clientId }),
      });
    expect((await route('device-7')).status).toBe(200);
    expect((await route('device-8')).status).toBe(403);
    expect((await getStatus({ authorization: `Bearer ${client}` })).status).toBe(403);
    expect(out).not.toContain(token.stdout.trim());

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

  it('refuses to listen off loopback without a token issuer, and without TLS, saying what to set', () => {
    const open = run(['start'], cleanEnv({ INGEST_HOST: '0.0.0.0', INGEST_PORT: '0', DEVHOST_PORT: '0' }));
    expect(open.status).toBe(2);
    expect(open.stderr).toMatch(/AUTH_ISSUER_1: INGEST_HOST=0\.0\.0\.0 is not loopback/);
    const keyFile = join(mkdtempSync(join(tmpdir(), 'start-key-')), 'idp.pem');
    writeFileSync(keyFile, PUBLIC_KEY_PEM);
    const plaintext = run(
      ['start'],
      cleanEnv({
        INGEST_HOST: '0.0.0.0',
        AUTH_ISSUER_1: 'https://idp.test',
        AUTH_ISSUER_1_KEY_FILES: keyFile,
      }),
    );
    expect(plaintext.status).toBe(2);
    expect(plaintext.stderr).toMatch(
      /INGEST_TLS_CERT_FILE: .* bearer tokens would cross the network in clear/,
    );
  });

  it('`token` without a local issuer key says to start the service first (exit 2)', () => {
    const r = run(['token', '--role', 'admin'], cleanEnv());
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no local issuer key .* start the service/);
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
