/**
 * What a (re)connecting client waits for before its first replayed event: no token exchange before
 * the upgrade (the token rides in its header), and a socket that reads every message the host sends,
 * compressed or not, in order.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import { SdkSession } from '../../client/sdk-session.js';
import { openHeaderAuthSocket } from '../../client/sdk-websocket.js';
import { SyncClient } from '../../client/sync-client.js';
import { DbConnection } from '../../module/bindings/index.js';
import { SYNC_DB } from '../support/devhost-harness.js';
import {
  append,
  cleanups,
  hostWithWriter,
  open,
  Recorder,
  range,
  readerToken,
} from './testing/sync-client-fixture.js';

/** Counts the process's requests for a websocket token while `body` runs (the real fetch answers them). */
async function countTokenExchanges(body: () => Promise<void>): Promise<number> {
  const real = globalThis.fetch;
  let exchanges = 0;
  globalThis.fetch = (input, init) => {
    if (String(input instanceof Request ? input.url : input).includes('/v1/identity/websocket-token'))
      exchanges++;
    return real(input, init);
  };
  try {
    await body();
  } finally {
    globalThis.fetch = real;
  }
  return exchanges;
}

/** What the client's SDK session asked for and was told, and when its socket opened, in order, while `body` runs. */
async function recordSubscriptions(body: () => Promise<void>): Promise<string[]> {
  const real = SdkSession.prototype.subscribe;
  const log: string[] = [];
  const g = globalThis as { WebSocket?: unknown };
  const socketClass = g.WebSocket;
  g.WebSocket = class extends NodeWebSocket {
    constructor(...args: ConstructorParameters<typeof NodeWebSocket>) {
      super(...args);
      this.once('open', () => log.push('socket open'));
    }
  };
  const table = (queries: string[]) => /FROM (\w+)/.exec(queries[0] ?? '')?.[1] ?? '?';
  SdkSession.prototype.subscribe = function (queries, applied, failed) {
    log.push(`sent ${table(queries)}`);
    return real.call(
      this,
      queries,
      () => {
        log.push(`applied ${table(queries)}`);
        applied();
      },
      failed,
    );
  };
  try {
    await body();
  } finally {
    SdkSession.prototype.subscribe = real;
    g.WebSocket = socketClass;
  }
  return log;
}

describe('connecting', () => {
  it('asks for the stream rows and the replay before the socket opens, the replay not after the rows are applied; nothing lost or repeated at the seam', async () => {
    const { devhost, writer } = await hostWithWriter();
    const store = new MemoryCursorStore();
    await append(writer, 'orders', ['a', 'b']);
    const first = new Recorder();
    const c1 = await open(devhost, ['orders'], store, first);
    await c1.waitLive();
    await expect.poll(async () => (await store.load('orders'))?.watermark).toBe(2n);
    await c1.close();
    // Missed while away: a recovery.
    await append(writer, 'orders', ['c', 'd', 'e', 'f']);
    const app = new Recorder();
    const token = await readerToken(devhost, ['orders']);
    const log = await recordSubscriptions(async () => {
      const c2 = await SyncClient.open(['orders'], {
        uri: devhost.url,
        database: SYNC_DB,
        token,
        clientId: 'desk-1',
        store,
        onEvent: app.onEvent,
      });
      cleanups.push(() => c2.close());
      await c2.waitLive();
    });
    // Both are asked for before the socket has opened (the SDK sends them in its first frame), the
    // replay right behind the rows' subscription: no round trip to wait for before either.
    expect(log.slice(0, 3)).toEqual(['sent sync_stream', 'sent sync_event', 'socket open']);
    expect(log.indexOf('sent sync_event')).toBeLessThan(log.indexOf('applied sync_stream'));
    expect(app.seqs('orders')).toEqual(range(3, 6));
    await append(writer, 'orders', ['g']);
    await expect.poll(() => app.seqs('orders')).toEqual(range(3, 7));
    expect(app.violations).toEqual([]);
  });

  it('sends the token in the upgrade header: no token exchange first, and the host knows the reader', async () => {
    const { devhost, writer } = await hostWithWriter();
    await append(writer, 'granted', ['a', 'b', 'c']);
    // The reader's grant is what lets it read the stream: an anonymous socket would replay nothing.
    const token = await readerToken(devhost, ['granted']);
    const app = new Recorder();
    const exchanges = await countTokenExchanges(async () => {
      const client = await SyncClient.open(['granted'], {
        uri: devhost.url,
        database: SYNC_DB,
        token,
        clientId: 'desk-1',
        store: new MemoryCursorStore(),
        onEvent: app.onEvent,
      });
      cleanups.push(() => client.close());
      await client.waitLive();
    });
    expect(exchanges).toBe(0);
    expect(app.seqs('granted')).toEqual(range(1, 3));
  });

  it('reads gzip-compressed messages (a host that is not on this machine) in the order they came', async () => {
    const { devhost, writer } = await hostWithWriter();
    await append(writer, 'zipped', ['a', 'b']);
    const token = await readerToken(devhost, ['zipped']);
    const conn = await new Promise<DbConnection>((resolve, reject) => {
      DbConnection.builder()
        .withUri(devhost.url)
        .withDatabaseName(SYNC_DB)
        .withToken(token)
        .withWSFn(openHeaderAuthSocket)
        .withCompression('gzip')
        .onConnect((c) => resolve(c as DbConnection))
        .onConnectError((_c, e) => reject(e))
        .build();
    });
    cleanups.push(async () => conn.disconnect());
    const seen: bigint[] = [];
    conn.db.syncEvent.onInsert((_ctx, row) => seen.push(row.seq));
    await new Promise<void>((resolve) =>
      conn
        .subscriptionBuilder()
        .onApplied(() => resolve())
        .subscribe("SELECT * FROM sync_event WHERE stream_id = 'zipped'"),
    );
    // Appends after the snapshot arrive as transaction updates, each after the one before.
    await append(
      writer,
      'zipped',
      Array.from({ length: 20 }, (_, i) => `later-${i}`),
    );
    await expect.poll(() => seen.length).toBe(22);
    expect(seen).toEqual(range(1, 22));
  });
});
