import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LegacyLaneClient } from '../../legacy/client/index.js';
import { parseKeyring, verifyToken } from '../../legacy/index.js';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
const KEYS = 'cli-test=0123456789abcdef0123456789abcdef,old=fedcba9876543210fedcba9876543210';
const clean = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(KAFKA_|SPACETIMEDB_|INGEST_|DEVHOST_|LOG_LEVEL|LEGACY_LANE)/.test(k),
  ),
);

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, encoding: 'utf8' });
}

/** Runs a long-lived command until `line` appears; returns its output so far and a stopper. */
async function until(args: string[], env: Record<string, string>, line: RegExp) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, LOG_LEVEL: 'warn', ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await expect.poll(() => out, { timeout: 60_000 }).toMatch(line);
  return {
    out: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('spacetime-sync legacy-lane', () => {
  it('token prints only a token with every required claim, signed by the first kid', async () => {
    const r = run(
      [
        'legacy-lane',
        'token',
        '--topics',
        'runtime.run_summaries,runtime.notifications',
        '--ttl',
        '600',
        '--session',
        'sess_cli',
      ],
      {
        LEGACY_LANE_HS256_KEYS: KEYS,
      },
    );
    expect(r.status).toBe(0);
    const token = r.stdout.trim();
    expect(r.stdout).toBe(`${token}\n`);
    const check = await verifyToken(token, parseKeyring(KEYS, 'test'));
    expect(check).toMatchObject({
      ok: true,
      principal: { sessionId: 'sess_cli', scopes: ['runtime.run_summaries', 'runtime.notifications'] },
    });
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(600);
  });

  it('answers --help with exit 0, and refuses usage or missing keys with exit 2', async () => {
    const help = run(['legacy-lane', '--help']);
    expect([help.status, help.stdout]).toEqual([0, expect.stringContaining('token [options]')]);
    const tokenHelp = run(['legacy-lane', 'token', '--help']);
    expect([tokenHelp.status, tokenHelp.stdout]).toEqual([0, expect.stringContaining('--topics <a,b>')]);
    expect(run(['legacy-lane', 'token', '--topics', 'a']).status).toBe(2);
    expect(run(['legacy-lane', 'token'], { LEGACY_LANE_HS256_KEYS: KEYS }).status).toBe(2);
    expect(
      run(['legacy-lane', 'token', '--topics', 'a', '--ttl', '0'], { LEGACY_LANE_HS256_KEYS: KEYS }).status,
    ).toBe(2);
    const short = run(['legacy-lane', '--port', '0'], { LEGACY_LANE_HS256_KEYS: 'k=short' });
    expect([short.status, short.stderr]).toEqual([2, expect.stringContaining('shorter than 32 bytes')]);
  });

  it('serves from the keyring file, prints where it listens, stops on SIGTERM with exit 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'legacy-cli-'));
    await writeFile(join(dir, 'keys'), KEYS.replace(',', '\n'));
    const lane = await until(
      ['legacy-lane', '--port', '0', '--data', join(dir, 'data')],
      { LEGACY_LANE_HS256_KEYS_FILE: join(dir, 'keys') },
      /legacy lane listening on (ws:\/\/127\.0\.0\.1:\d+\/socket\/websocket)/,
    );
    const url = /legacy lane listening on (\S+)/.exec(lane.out())![1]!;
    const token = run(['legacy-lane', 'token', '--topics', 'runtime.run_summaries'], {
      LEGACY_LANE_HS256_KEYS_FILE: join(dir, 'keys'),
    }).stdout.trim();
    const client = await LegacyLaneClient.connect({ url, token, heartbeatMs: 0 });
    expect(client.allowedTopics).toEqual(['runtime.run_summaries']);
    await client.close();
    expect(await lane.stop()).toBe(0);
  });

  it('refuses to start on a damaged journal with exit 1, naming the byte offset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'legacy-cli-'));
    await writeFile(join(dir, 'journal.log'), 'deadbeef {"r":"row"}\n');
    const r = run(['legacy-lane', '--data', dir], { LEGACY_LANE_HS256_KEYS: KEYS });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('damaged at byte 0 (line 1): checksum mismatch');
  });

  it('npm start with LEGACY_LANE=1 runs the lane beside devhost and prints the same line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'legacy-cli-'));
    const start = await until(
      ['start'],
      {
        DEVHOST_PORT: '0',
        INGEST_PORT: '0',
        PROBE_INTERVAL_MS: '0',
        // The start banner, "ready" included, is logged at info.
        LOG_LEVEL: 'info',
        LEGACY_LANE: '1',
        LEGACY_LANE_PORT: '0',
        LEGACY_LANE_DATA_DIR: dir,
        LEGACY_LANE_HS256_KEYS: KEYS,
      },
      /"msg":"ready"/,
    );
    expect(start.out()).toMatch(/legacy lane listening on ws:\/\/127\.0\.0\.1:\d+\/socket\/websocket/);
    expect(await start.stop()).toBe(0);
  }, 90_000);
});
