/**
 * A SpacetimeDB address that accepts connections and then never answers (a black-holing proxy or
 * load balancer, a host frozen mid-start): the SDK's connect has no timeout of its own, so each of
 * the service's connection attempts (writer, cutover store) waited forever, without an error, a
 * retry or a log line. With `SPACETIMEDB_CONNECT_TIMEOUT_MS` every attempt is given up after that
 * long into the usual backoff, logged, and retried; once the host answers the service becomes ready.
 * The real `spacetime-sync start` against a real port.
 */
import { describe, expect, it } from 'vitest';
import type { Proc } from '../../chaos/procs/child.js';
import { useDevhostBehindFrontDoor } from '../support/devhost-behind-front-door.js';

const host = useDevhostBehindFrontDoor('hold', 'start-connect-timeout');

/** Log lines of `proc` with message `msg` whose `why` says the attempt timed out. */
function timedOut(proc: Proc, msg: string): number {
  return proc
    .output()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`) && l.includes('connect timed out')).length;
}

describe('an adapter whose SpacetimeDB address accepts and never answers', () => {
  it('gives each connection attempt up after SPACETIMEDB_CONNECT_TIMEOUT_MS, logs it and retries, then becomes ready', async () => {
    const proc = host.startService('service', { SPACETIMEDB_CONNECT_TIMEOUT_MS: '1000' });
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
    expect(host.front.accepted).toBeGreaterThanOrEqual(3);
    host.front.open();
    await proc.waitFor(/"msg":"ready"/, 90_000);
  }, 240_000);

  it('refuses a connect timeout that is not a positive integer, naming the variable', async () => {
    const proc = host.startService('service-bad-timeout', { SPACETIMEDB_CONNECT_TIMEOUT_MS: '0' });
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toContain('SPACETIMEDB_CONNECT_TIMEOUT_MS');
  }, 60_000);
});
