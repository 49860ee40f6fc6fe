/**
 * An adapter (re)started while SpacetimeDB is away waits it out: the service (`spacetime-sync start`)
 * and devhost (`spacetime-sync devhost --data`) are each their own process. With devhost down the
 * service keeps retrying with capped backoff for longer than the 30 s its start used to allow, /readyz
 * says why it is not ready, and once devhost is back it becomes ready; a service restarted during a
 * devhost crash does the same. A host that refuses for good — a bad token, no such database — ends
 * the start with a typed message and exit code 1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, type Proc, startProc } from '../../chaos/procs/child.js';
import { BIN, type DevhostProc, SYNC_DB, startDevhostProc } from '../../chaos/procs/devhost-proc.js';
import { freePort } from '../support/free-port.js';

/** The start used to give up after 30 s; the outage here lasts longer. */
const OUTAGE_MS = 32_000;

let dir: string;
let devhost: DevhostProc | undefined;
let devhostPort: number;
let ownerToken: string;
const procs: Proc[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'start-outage-'));
  // Once up to create the database and its owner token in the data dir, then down for the outage.
  const first = await startDevhostProc(join(dir, 'devhost'));
  devhostPort = first.port;
  ownerToken = first.ownerToken;
  await first.proc.stop();
}, 180_000);

afterAll(async () => {
  for (const p of procs) await p.kill9();
  await devhost?.proc.kill9();
  await rm(dir, { recursive: true, force: true });
});

async function startService(env: Record<string, string> = {}): Promise<{ proc: Proc; http: string }> {
  const port = await freePort();
  const proc = startProc(
    'service',
    process.execPath,
    [BIN, 'start'],
    cleanEnv({
      SPACETIMEDB_URI: `ws://127.0.0.1:${devhostPort}`,
      SPACETIMEDB_DB: SYNC_DB,
      SPACETIMEDB_TOKEN: ownerToken,
      INGEST_PORT: String(port),
      PROBE_INTERVAL_MS: '0',
      LOG_LEVEL: 'info',
      ...env,
    }),
  );
  procs.push(proc);
  return { proc, http: `http://127.0.0.1:${port}` };
}

async function readyz(http: string): Promise<string> {
  try {
    return await (await fetch(`${http}/readyz`)).text();
  } catch (e) {
    return `unreachable: ${(e as Error).message}`;
  }
}

const retries = (proc: Proc) => proc.output().split('SpacetimeDB connection lost').length - 1;

describe('service start during a SpacetimeDB outage', () => {
  it('waits out an outage longer than the old 30 s limit, says why on /readyz, and becomes ready', async () => {
    const startedAt = Date.now();
    const { proc, http } = await startService();
    await expect
      .poll(() => readyz(http), { timeout: 60_000, interval: 200 })
      .toMatch(/^not ready: service starting: SpacetimeDB not connected \(connect failed: .*; retrying\)/);
    // The outage goes on; the service keeps retrying (and stays up) all along.
    await expect
      .poll(() => Date.now() - startedAt >= OUTAGE_MS || proc.output().includes('could not start'), {
        timeout: OUTAGE_MS + 30_000,
        interval: 500,
      })
      .toBe(true);
    expect(proc.output()).not.toContain('could not start');
    expect(retries(proc)).toBeGreaterThanOrEqual(3);
    expect(await readyz(http)).toMatch(/^not ready: service starting: SpacetimeDB not connected/);

    devhost = await startDevhostProc(join(dir, 'devhost'), devhostPort);
    await expect.poll(() => readyz(http), { timeout: 60_000, interval: 200 }).toBe('ready\n');
    await proc.waitFor(/"msg":"ready"/);
  }, 180_000);

  it('a service restarted during a devhost crash becomes ready once devhost is back', async () => {
    const running = procs[0];
    await devhost?.proc.kill9();
    await running?.kill9();
    const { proc, http } = await startService();
    await expect
      .poll(() => readyz(http), { timeout: 60_000, interval: 200 })
      .toMatch(/^not ready: service starting: SpacetimeDB not connected/);
    devhost = await startDevhostProc(join(dir, 'devhost'), devhostPort);
    await expect.poll(() => readyz(http), { timeout: 60_000, interval: 200 }).toBe('ready\n');
    await proc.waitFor(/"msg":"ready"/);
  }, 180_000);

  it('ends the start with exit 1 when SpacetimeDB refuses the token or has no such database', async () => {
    // (Run alone, the tests above have not brought devhost back.)
    devhost ??= await startDevhostProc(join(dir, 'devhost'), devhostPort);
    const missing = await startService({ SPACETIMEDB_DB: 'no-such-db' });
    await missing.proc.waitFor(/could not start/, 60_000);
    expect(await missing.proc.exited).toBe(1);
    expect(missing.proc.output()).toContain("has no database 'no-such-db'");

    const badToken = await startService({ SPACETIMEDB_TOKEN: 'eyJhbGciOiJFUzI1NiJ9.e30.AAAA' });
    await badToken.proc.waitFor(/could not start/, 60_000);
    expect(await badToken.proc.exited).toBe(1);
    expect(badToken.proc.output()).toContain('refused the token');
    // The refused services went away mid-handshake; devhost is still up (it used to crash on their reset).
    expect(devhost.proc.child.exitCode).toBeNull();
  }, 120_000);
});
