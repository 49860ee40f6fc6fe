/**
 * The desktop client's side of the chaos finding "a connection attempt hung silently": behind a
 * proxy that accepts and closes at once (a SpacetimeDB host down behind it), Node 20's fetch missed
 * the close on the process's first connection, so the SDK's first token request waited forever and
 * the client sat in `connecting` until its attempt timeout. `SyncClient.open` now warms the HTTP
 * parser first (shared/http-parser-warmup.ts). Here a fresh client process with an attempt timeout
 * far longer than the test must see every closed attempt fail into backoff, then go live once the
 * real devhost answers behind the same port.
 */
import { describe, expect, it } from 'vitest';
import { cleanEnv } from '../../chaos/procs/child.js';
import { SYNC_DB } from '../../chaos/procs/devhost-proc.js';
import { useDevhostBehindFrontDoor } from '../support/devhost-behind-front-door.js';

const FIXTURE = new URL('./testing/peer-closes-client.ts', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

const host = useDevhostBehindFrontDoor('close', 'client-peer-closes');

describe('a client process whose SpacetimeDB address accepts and closes at once', () => {
  it('fails each attempt into backoff and retries, then goes live once the host answers', async () => {
    const proc = host.start(
      'client',
      process.execPath,
      ['--import', 'tsx', FIXTURE],
      cleanEnv({ FIXTURE_URI: host.uri, FIXTURE_DB: SYNC_DB, FIXTURE_TOKEN: host.devhost.ownerToken }),
      ROOT,
    );
    // Without the warm-up on Node 20 the first attempt never ended: `connecting`, then nothing.
    const backoffs = () => proc.output().split('\nstate backoff').length - 1;
    await expect.poll(backoffs, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(2);
    host.front.open();
    await proc.waitFor(/^state live/m, 90_000);
  }, 180_000);
});
