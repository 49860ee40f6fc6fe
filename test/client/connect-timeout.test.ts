/**
 * Regression (found by the chaos runs): a connection attempt whose handshake the network swallows —
 * here a TCP proxy black-holing every byte, as a host killed mid-accept behind a proxy did in the
 * long run — neither opens nor fails. The client gave it up never and sat in `connecting` forever;
 * now the attempt times out into backoff, and the client connects once the network is back.
 */
import type { Devhost } from '@spacetime-sync/devhost';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../chaos/net/tcp-proxy.js';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import { type ClientState, SyncClient } from '../../client/sync-client.js';
import { SYNC_DB, startSyncDevhost } from '../support/devhost-harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('SyncClient connection attempts', () => {
  it('time out into backoff when the handshake gets no answer, and connect once the network is back', async () => {
    const host: Devhost = await startSyncDevhost();
    cleanups.push(() => host.stop());
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: host.port });
    cleanups.push(() => proxy.stop());
    proxy.set('blackhole');
    const states: { state: ClientState; detail?: string }[] = [];
    const client = await SyncClient.open(['s:1'], {
      uri: proxy.url,
      database: SYNC_DB,
      token: host.ownerToken,
      clientId: 'timeout-test',
      store: new MemoryCursorStore(),
      connectTimeoutMs: 500,
      backoff: { baseMs: 100, capMs: 500 },
      onEvent: () => {},
      onState: (state, detail) => states.push({ state, ...(detail ? { detail } : {}) }),
    });
    cleanups.push(() => client.close());
    await expect
      .poll(() => states.find((s) => s.state === 'backoff')?.detail, { timeout: 20_000 })
      .toMatch(/no answer to the connection within 500 ms/);
    expect(client.currentState).not.toBe('live');
    proxy.set('pass');
    await client.waitLive(30_000);
  }, 60_000);
});
