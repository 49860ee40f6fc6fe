/**
 * The chaos finding "adapter restarted during a devhost crash never became ready, silent": the
 * adapter reached SpacetimeDB through a TCP proxy, which accepts and closes at once while devhost is
 * down. On Node 20 the first fetch of a process (the SDK's websocket-token request) missed that close
 * and waited forever (../../shared/http-parser-warmup.ts). Here the real `spacetime-sync start`, a
 * fresh process, starts against a port that does exactly that: it must say that the connection was
 * lost and keep retrying, not hang without a word. Then the real devhost appears behind the same
 * port and the service becomes ready.
 */
import { describe, expect, it } from 'vitest';
import { useDevhostBehindFrontDoor } from '../support/devhost-behind-front-door.js';

const host = useDevhostBehindFrontDoor('close', 'start-peer-closes');

describe('an adapter whose SpacetimeDB address accepts and closes at once', () => {
  it('reports each lost connection and retries, then becomes ready once the host answers', async () => {
    const proc = host.startService('service');
    // The old code logged the plan and `shards`, then nothing: its first attempt never ended.
    const lost = () => proc.output().split('"msg":"SpacetimeDB connection lost"').length - 1;
    await expect.poll(lost, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(2);
    expect(host.front.accepted).toBeGreaterThanOrEqual(2);
    host.front.open();
    await proc.waitFor(/"msg":"ready"/, 90_000);
  }, 180_000);
});
