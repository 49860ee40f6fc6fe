/**
 * A SpacetimeDB address that accepts connections and then never answers (a black-holing proxy or
 * load balancer, a host frozen mid-start): the SDK's connect has no timeout of its own, so each of
 * the service's connection attempts (writer, cutover store) waited forever, without an error, a
 * retry or a log line. With `SPACETIMEDB_CONNECT_TIMEOUT_MS` every attempt is given up after that
 * long into the usual backoff, logged, and retried; once the host answers the service becomes ready.
 * The real `spacetime-sync start` against a real port.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, type Proc, startProc } from '../../chaos/procs/child.js';
import { BIN, type DevhostProc, SYNC_DB, startDevhostProc } from '../../chaos/procs/devhost-proc.js';
import { type FrontDoor, startFrontDoor } from '../support/front-door.js';

let dir: string;
let devhost: DevhostProc;
let front: FrontDoor;
const procs: Proc[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'start-connect-timeout-'));
  devhost = await startDevhostProc(join(dir, 'devhost'));
  front = await startFrontDoor(devhost.port, 'hold');
}, 180_000);

afterAll(async () => {
  for (const p of procs) await p.kill9();
  await devhost?.proc.kill9();
  await front?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Log lines of `proc` with message `msg` whose `why` says the attempt timed out. */
function timedOut(proc: Proc, msg: string): number {
  return proc
    .output()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`) && l.includes('connect timed out')).length;
}

describe('an adapter whose SpacetimeDB address accepts and never answers', () => {
  it('gives each connection attempt up after SPACETIMEDB_CONNECT_TIMEOUT_MS, logs it and retries, then becomes ready', async () => {
    const proc = startProc(
      'service',
      process.execPath,
      [BIN, 'start'],
      cleanEnv({
        SPACETIMEDB_URI: `ws://127.0.0.1:${front.port}`,
        SPACETIMEDB_DB: SYNC_DB,
        SPACETIMEDB_TOKEN: devhost.ownerToken,
        SPACETIMEDB_CONNECT_TIMEOUT_MS: '1000',
        INGEST_PORT: '0',
        PROBE_INTERVAL_MS: '0',
        LOG_LEVEL: 'info',
        SPACETIME_SYNC_STATE_DIR: join(dir, 'state'),
      }),
    );
    procs.push(proc);
    // The old code's first attempts never ended: nothing after `shards`, however long one waits.
    await expect
      .poll(() => timedOut(proc, 'SpacetimeDB connection lost'), { timeout: 90_000, interval: 200 })
      .toBeGreaterThanOrEqual(2);
    await expect
      .poll(() => timedOut(proc, 'cutover store: SpacetimeDB connection lost'), {
        timeout: 90_000,
        interval: 200,
      })
      .toBeGreaterThanOrEqual(1);
    // Each retry is a new connection (a given-up attempt is not waited on again).
    expect(front.accepted).toBeGreaterThanOrEqual(3);
    front.open();
    await proc.waitFor(/"msg":"ready"/, 90_000);
  }, 240_000);

  it('refuses a connect timeout that is not a positive integer, naming the variable', async () => {
    const proc = startProc(
      'service-bad-timeout',
      process.execPath,
      [BIN, 'start'],
      cleanEnv({
        SPACETIMEDB_URI: `ws://127.0.0.1:${front.port}`,
        SPACETIMEDB_DB: SYNC_DB,
        SPACETIMEDB_CONNECT_TIMEOUT_MS: '0',
        INGEST_PORT: '0',
        SPACETIME_SYNC_STATE_DIR: join(dir, 'state-bad'),
      }),
    );
    procs.push(proc);
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toContain('SPACETIMEDB_CONNECT_TIMEOUT_MS');
  }, 60_000);
});
