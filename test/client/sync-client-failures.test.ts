/**
 * How the desktop client meets a host that is wrong rather than down — refused token, unknown
 * database, an address that is not SpacetimeDB: closed with a typed error, no retry loop — one that
 * is down (backoff with a retry time a CLI can count down), and one that went backwards (restarted
 * from an older data dir): an explicit rebootstrap, never a resume past its head.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Devhost } from '@spacetime-sync/devhost';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import {
  type ClientState,
  isSyncClientError,
  type RebootstrapInfo,
  type StateInfo,
  SyncClient,
  type SyncClientOptions,
} from '../../client/sync-client.js';
import { diagnoseConnectFailure } from '../../shared/connect-diagnosis.js';
import { connect, SYNC_DB, startSyncDevhost } from '../support/devhost-harness.js';
import { freePort } from '../support/free-port.js';
import { eventInput } from '../support/sync-events.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function devhost(dataDir?: string, port?: number): Promise<Devhost> {
  const d = await startSyncDevhost(dataDir, port);
  cleanups.push(() => d.stop());
  return d;
}

function recorder() {
  const states: { state: ClientState; detail?: string; info?: StateInfo }[] = [];
  const seqs: bigint[] = [];
  const rebootstraps: RebootstrapInfo[] = [];
  return {
    states,
    seqs,
    rebootstraps,
    options: {
      clientId: 'desk-failures',
      store: new MemoryCursorStore(),
      onEvent: (_s: string, e: { seq: bigint }) => {
        seqs.push(e.seq);
      },
      onRebootstrap: (info: RebootstrapInfo) => {
        rebootstraps.push(info);
        seqs.length = 0;
      },
      onState: (state: ClientState, detail?: string, info?: StateInfo) => {
        states.push({ state, ...(detail ? { detail } : {}), ...(info ? { info } : {}) });
      },
      backoff: { baseMs: 50, capMs: 300 },
      rebootstrap: { minDelayMs: 1, maxDelayMs: 20, maxInWindow: 20, windowMs: 60_000 },
    },
  };
}

async function open(
  streams: string[],
  options: Omit<SyncClientOptions, 'onEvent' | 'store' | 'clientId'> & Partial<SyncClientOptions>,
) {
  const app = recorder();
  const client = await SyncClient.open(streams, { ...app.options, ...options });
  cleanups.push(() => client.close());
  return { client, app };
}

describe('SyncClient against a wrong host', () => {
  it('closes with `unauthenticated` when the host refuses the token, without retrying', async () => {
    const host = await devhost();
    // A well-formed token signed by another host's key.
    const other = await devhost();
    const foreign = (await connect(other)).token;
    const { client, app } = await open(['s'], { uri: host.url, database: SYNC_DB, token: foreign });
    const error = await client.whenClosed();
    expect(isSyncClientError(error)).toBe(true);
    expect(error?.code).toBe('unauthenticated');
    expect(client.currentState).toBe('closed');
    expect(app.states.map((s) => s.state)).toEqual(['closed']);
    expect(app.states[0]?.info?.error).toBe(error);
    await expect(client.waitLive()).rejects.toBe(error);
  });

  it('closes with `unknown_database` when the host has no such database (with and without a token)', async () => {
    const host = await devhost();
    for (const token of [undefined, host.ownerToken]) {
      const { client } = await open(['s'], {
        uri: host.url,
        database: 'no-such-db',
        ...(token ? { token } : {}),
      });
      const error = await client.whenClosed();
      expect(error?.code).toBe('unknown_database');
      expect(error?.message).toContain("no database 'no-such-db'");
    }
  });

  it('closes with `not_spacetimedb` when something else answers at the address', async () => {
    const web: Server = createServer((_req, res) =>
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'),
    );
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => web.close(() => r())));
    const uri = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    const { client } = await open(['s'], { uri, database: SYNC_DB, token: 'whatever' });
    expect((await client.whenClosed())?.code).toBe('not_spacetimedb');
  });

  it('backs off while nothing listens, telling when it retries, and goes live once the host is up', async () => {
    const port = await freePort();
    // Started with a data dir made now and its owner token, so the client has a token before the host is up.
    const dataDir = await mkdtemp(join(tmpdir(), 'sync-late-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = await startSyncDevhost(dataDir);
    const token = first.ownerToken;
    await first.stop();
    const { client, app } = await open(['s'], { uri: `http://127.0.0.1:${port}`, database: SYNC_DB, token });
    await expect.poll(() => client.currentState, { timeout: 10_000 }).toBe('backoff');
    const backoff = app.states.find((s) => s.state === 'backoff');
    expect(backoff?.info?.retryAt).toBeGreaterThan(0);
    expect(backoff?.detail).toMatch(/unreachable.*retrying in \d+ ms/);
    // The diagnosis says why: nothing listens (transient), so the client keeps trying.
    expect(
      await diagnoseConnectFailure({ uri: `http://127.0.0.1:${port}`, database: SYNC_DB }),
    ).toMatchObject({
      kind: 'transient',
    });
    const host = await devhost(dataDir, port);
    const writer = await connect(host, host.ownerToken);
    cleanups.push(async () => writer.conn.disconnect());
    await client.waitLive(15_000);
    expect(client.nextRetryAt).toBeUndefined();
    expect(client.error).toBeUndefined();
    await writer.conn.reducers.appendSyncEvent({ event: eventInput('s', 'a') });
    await expect.poll(() => app.seqs).toEqual([1n]);
  });
});

describe('SyncClient when the application fails', () => {
  it('stops at the event whose onEvent threw and closes with `application_failed`; the cursor does not pass it', async () => {
    const host = await devhost();
    const writer = await connect(host, host.ownerToken);
    cleanups.push(async () => writer.conn.disconnect());
    for (const k of ['1', '2', '3'])
      await writer.conn.reducers.appendSyncEvent({ event: eventInput('f', k) });
    const applied: bigint[] = [];
    const store = new MemoryCursorStore();
    const { client } = await open(['f'], {
      uri: host.url,
      database: SYNC_DB,
      token: host.ownerToken,
      store,
      onEvent: (_s, e) => {
        if (e.seq === 2n) throw new Error('disk full');
        applied.push(e.seq);
      },
    });
    const error = await client.whenClosed();
    expect(error?.code).toBe('application_failed');
    expect(error?.message).toContain("stream 'f': disk full");
    expect(applied).toEqual([1n]);
    expect((await store.load('f'))?.watermark).toBe(1n);
  });
});

describe('`spacetime-sync tail` against a wrong host', () => {
  it('ends with exit code 3 and the typed error instead of retrying forever', async () => {
    const host = await devhost();
    const bin = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
    const child = spawn(
      process.execPath,
      [bin, 'tail', 's', '--spacetimedb', host.url, '--database', 'no-such-db'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SPACETIMEDB_TOKEN: host.ownerToken } },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // 'close', not 'exit': the last output can still be in the pipe when 'exit' fires.
    const code = await new Promise((r) => child.once('close', r));
    expect(code).toBe(3);
    expect(stderr).toContain('unknown_database: http://127.0.0.1');
  });
});

describe('SyncClient when the server went backwards', () => {
  it('rebootstraps (server_behind) when the host restarts from an older data dir, then delivers the reissued seqs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sync-behind-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const current = join(dir, 'current');
    const older = join(dir, 'older');
    let host = await startSyncDevhost(current);
    const port = host.port;
    let writer = await connect(host, host.ownerToken);
    const append = async (keys: string[]) => {
      for (const k of keys) await writer.conn.reducers.appendSyncEvent({ event: eventInput('b', k) });
    };
    await append(['1', '2', '3']);
    // Keep a copy of the data dir at head 3, then carry on to head 6.
    writer.conn.disconnect();
    await host.stop();
    await cp(current, older, { recursive: true });
    host = await startSyncDevhost(current, port);
    writer = await connect(host, host.ownerToken);
    await append(['4', '5', '6']);

    const { client, app } = await open(['b'], { uri: host.url, database: SYNC_DB, token: host.ownerToken });
    await client.waitLive();
    await expect.poll(() => client.watermark('b')).toBe(6n);

    // The host comes back from the older copy: same epoch, head 3, below the client's watermark 6.
    writer.conn.disconnect();
    await host.stop();
    host = await startSyncDevhost(older, port);
    const restarted = host;
    cleanups.push(() => restarted.stop());
    writer = await connect(host, host.ownerToken);
    const w = writer;
    cleanups.push(async () => w.conn.disconnect());

    await expect.poll(() => app.rebootstraps.length, { timeout: 10_000 }).toBe(1);
    expect(app.rebootstraps[0]).toMatchObject({
      streamId: 'b',
      reason: { kind: 'server_behind', watermark: 6n, headSeq: 3n },
      lowWatermark: 1n,
    });
    await expect.poll(() => app.seqs).toEqual([1n, 2n, 3n]);
    // Seqs 4.. are handed out again for new events: the client gets them instead of skipping to 7.
    await append(['4b', '5b']);
    await expect.poll(() => app.seqs).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(client.currentState).toBe('live');
  });
});
