/**
 * The desktop client's side of the chaos finding "a connection attempt hung silently": behind a
 * proxy that accepts and closes at once (a SpacetimeDB host down behind it), Node 20's fetch missed
 * the close on the process's first connection, so the SDK's first token request waited forever and
 * the client sat in `connecting` until its attempt timeout. `SyncClient.open` now warms the HTTP
 * parser first (shared/http-parser-warmup.ts). Here a fresh client process with an attempt timeout
 * far longer than the test must see every closed attempt fail into backoff, then go live once the
 * real devhost answers behind the same port.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, type Proc, startProc } from '../../chaos/procs/child.js';
import { type DevhostProc, SYNC_DB, startDevhostProc } from '../../chaos/procs/devhost-proc.js';
import { type FrontDoor, startFrontDoor } from '../support/front-door.js';

const FIXTURE = new URL('./testing/peer-closes-client.ts', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

let dir: string;
let devhost: DevhostProc;
let front: FrontDoor;
const procs: Proc[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'client-peer-closes-'));
  devhost = await startDevhostProc(join(dir, 'devhost'));
  front = await startFrontDoor(devhost.port, 'close');
}, 180_000);

afterAll(async () => {
  for (const p of procs) await p.kill9();
  await devhost?.proc.kill9();
  await front?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a client process whose SpacetimeDB address accepts and closes at once', () => {
  it('fails each attempt into backoff and retries, then goes live once the host answers', async () => {
    const proc = startProc(
      'client',
      process.execPath,
      ['--import', 'tsx', FIXTURE],
      cleanEnv({
        FIXTURE_URI: `ws://127.0.0.1:${front.port}`,
        FIXTURE_DB: SYNC_DB,
        FIXTURE_TOKEN: devhost.ownerToken,
      }),
      ROOT,
    );
    procs.push(proc);
    // Without the warm-up on Node 20 the first attempt never ended: `connecting`, then nothing.
    const backoffs = () => proc.output().split('\nstate backoff').length - 1;
    await expect.poll(backoffs, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(2);
    front.open();
    await proc.waitFor(/^state live/m, 90_000);
  }, 180_000);
});
