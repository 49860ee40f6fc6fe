/**
 * The chaos finding "adapter restarted during a devhost crash never became ready, silent": the
 * adapter reached SpacetimeDB through a TCP proxy, which accepts and closes at once while devhost is
 * down. On Node 20 the first fetch of a process (the SDK's websocket-token request) missed that close
 * and waited forever (../../shared/http-parser-warmup.ts). Here the real `spacetime-sync start`, a
 * fresh process, starts against a port that does exactly that: it must say that the connection was
 * lost and keep retrying, not hang without a word. Then the real devhost appears behind the same
 * port and the service becomes ready.
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
  dir = await mkdtemp(join(tmpdir(), 'start-peer-closes-'));
  devhost = await startDevhostProc(join(dir, 'devhost'));
  front = await startFrontDoor(devhost.port, 'close');
}, 180_000);

afterAll(async () => {
  for (const p of procs) await p.kill9();
  await devhost?.proc.kill9();
  await front?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('an adapter whose SpacetimeDB address accepts and closes at once', () => {
  it('reports each lost connection and retries, then becomes ready once the host answers', async () => {
    const proc = startProc(
      'service',
      process.execPath,
      [BIN, 'start'],
      cleanEnv({
        SPACETIMEDB_URI: `ws://127.0.0.1:${front.port}`,
        SPACETIMEDB_DB: SYNC_DB,
        SPACETIMEDB_TOKEN: devhost.ownerToken,
        INGEST_PORT: '0',
        PROBE_INTERVAL_MS: '0',
        LOG_LEVEL: 'info',
        SPACETIME_SYNC_STATE_DIR: join(dir, 'state'),
      }),
    );
    procs.push(proc);
    // The old code logged the plan and `shards`, then nothing: its first attempt never ended.
    const lost = () => proc.output().split('"msg":"SpacetimeDB connection lost"').length - 1;
    await expect.poll(lost, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(2);
    expect(front.accepted).toBeGreaterThanOrEqual(2);
    front.open();
    await proc.waitFor(/"msg":"ready"/, 90_000);
  }, 180_000);
});
