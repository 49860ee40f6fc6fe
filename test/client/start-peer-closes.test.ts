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
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, type Proc, startProc } from '../../chaos/procs/child.js';
import { type DevhostProc, SYNC_DB, startDevhostProc } from '../../chaos/procs/devhost-proc.js';

const FIXTURE = new URL('./testing/peer-closes-client.ts', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

let dir: string;
let devhost: DevhostProc;
let front: Server;
let frontPort: number;
/** While false the front door closes every connection at once (a proxy with nothing behind it). */
let backendUp = false;
const procs: Proc[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'client-peer-closes-'));
  devhost = await startDevhostProc(join(dir, 'devhost'));
  front = createServer((client) => {
    client.on('error', () => {});
    if (!backendUp) return void client.destroy();
    const upstream = new Socket();
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.connect(devhost.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', () => resolve()));
  frontPort = (front.address() as { port: number }).port;
}, 180_000);

afterAll(async () => {
  for (const p of procs) await p.kill9();
  await devhost?.proc.kill9();
  await new Promise((r) => front?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('a client process whose SpacetimeDB address accepts and closes at once', () => {
  it('fails each attempt into backoff and retries, then goes live once the host answers', async () => {
    const proc = startProc(
      'client',
      process.execPath,
      ['--import', 'tsx', FIXTURE],
      cleanEnv({
        FIXTURE_URI: `ws://127.0.0.1:${frontPort}`,
        FIXTURE_DB: SYNC_DB,
        FIXTURE_TOKEN: devhost.ownerToken,
      }),
      ROOT,
    );
    procs.push(proc);
    // Without the warm-up on Node 20 the first attempt never ended: `connecting`, then nothing.
    const backoffs = () => proc.output().split('\nstate backoff').length - 1;
    await expect.poll(backoffs, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(2);
    backendUp = true;
    await proc.waitFor(/^state live/m, 90_000);
  }, 180_000);
});
