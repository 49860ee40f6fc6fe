import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCursorStore, MemoryCursorStore } from '../../client/cursor-store.js';
import { DEFAULT_REPLAY_WINDOW, SyncClient } from '../../client/sync-client.js';
import { connect, SYNC_DB } from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';
import {
  append,
  cleanups,
  devhostWithWriter,
  hostWithWriter,
  open,
  Recorder,
  range,
  readerToken,
  tempDir,
} from './testing/sync-client-fixture.js';

describe('SyncClient', () => {
  it('replays from the beginning, then follows live, with no gap or duplicate at the seam', async () => {
    const { devhost, writer } = await hostWithWriter();
    await append(writer, 'orders', ['a', 'b', 'c', 'd', 'e']);
    const app = new Recorder();
    const store = new MemoryCursorStore();
    const client = await open(devhost, ['orders', 'empty'], store, app);
    await client.waitLive();
    expect(app.seqs('orders')).toEqual(range(1, 5));
    await append(writer, 'orders', ['f', 'g', 'h']);
    await append(writer, 'empty', ['x']);
    await expect.poll(() => app.seqs('orders')).toEqual(range(1, 8));
    await expect.poll(() => app.seqs('empty')).toEqual([1n]);
    expect(app.violations).toEqual([]);
    await expect.poll(async () => (await store.load('orders'))?.watermark).toBe(8n);
    // Acks follow what the application applied.
    const acks = await connect(devhost, devhost.ownerToken); // checkpoints are visible to their owner and the database owner
    cleanups.push(async () => acks.conn.disconnect());
    await new Promise<void>((r) =>
      acks.conn
        .subscriptionBuilder()
        .onApplied(() => r())
        .subscribe('SELECT * FROM sync_checkpoint'),
    );
    await expect
      .poll(
        () =>
          [...acks.conn.db.syncCheckpoint.iter()].find(
            (c) => c.clientId === 'desk-1' && c.streamId === 'orders',
          )?.ackedSeq,
      )
      .toBe(8n);
  });

  it('resumes after a client restart from the file store, delivering only what is new', async () => {
    const { devhost, writer } = await hostWithWriter();
    const path = join(await tempDir(), 'cursors.json');
    await append(writer, 'feed', ['1', '2', '3']);
    const first = new Recorder();
    const c1 = await open(devhost, ['feed'], new FileCursorStore(path), first);
    await c1.waitLive();
    await expect.poll(async () => (await new FileCursorStore(path).load('feed'))?.watermark).toBe(3n);
    await c1.close();
    await append(writer, 'feed', ['4', '5']);
    const second = new Recorder();
    const c2 = await open(devhost, ['feed'], new FileCursorStore(path), second);
    await c2.waitLive();
    await expect.poll(() => second.seqs('feed')).toEqual([4n, 5n]);
    expect(second.violations).toEqual([]);
  });

  it('reconnects with backoff when devhost restarts and resumes from the last applied seq', async () => {
    const dataDir = await tempDir();
    let { devhost, writer } = await devhostWithWriter(dataDir);
    const port = devhost.port;
    await append(writer, 'live', ['a', 'b']);
    const app = new Recorder();
    const client = await open(devhost, ['live'], new MemoryCursorStore(), app);
    await client.waitLive();
    writer.conn.disconnect();
    await devhost.stop();
    await expect.poll(() => client.currentState).toBe('backoff');
    ({ devhost, writer } = await devhostWithWriter(dataDir, port));
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
    await append(writer, 'live', ['c', 'd']);
    await expect.poll(() => app.seqs('live'), { timeout: 10_000 }).toEqual(range(1, 4));
    expect(app.states).toContain('backoff');
    expect(client.currentState).toBe('live');
    expect(app.violations).toEqual([]);
  });

  it('rebootstraps explicitly when the epoch changes under a live client', async () => {
    const { devhost, writer } = await hostWithWriter();
    await append(writer, 'reset-me', ['a', 'b']);
    const app = new Recorder();
    const client = await open(devhost, ['reset-me'], new MemoryCursorStore(), app);
    await client.waitLive();
    await writer.conn.reducers.resetStream({ streamId: 'reset-me' });
    await expect.poll(() => app.rebootstraps.length).toBe(1);
    expect(app.rebootstraps[0]?.reason).toEqual({ kind: 'epoch_changed', fromEpoch: 1n, toEpoch: 2n });
    await append(writer, 'reset-me', ['c']);
    await expect.poll(() => app.seqs('reset-me')).toEqual([3n]);
    expect(app.violations).toEqual([]);
  });

  it('follows live through the event table: nothing stays cached and nothing is re-subscribed, without a gap or duplicate', async () => {
    const { devhost, writer } = await hostWithWriter();
    await append(writer, 'long', ['k0']);
    const app = new Recorder();
    const client = await SyncClient.open(['long'], {
      uri: devhost.url,
      database: SYNC_DB,
      token: await readerToken(devhost, ['long']),
      clientId: 'desk-long',
      store: new MemoryCursorStore(),
      onEvent: app.onEvent,
    });
    cleanups.push(() => client.close());
    await client.waitLive();
    // Live: the replay subscription is gone with its row.
    await expect.poll(() => client.cachedEventCount).toBe(0);
    for (let i = 1; i <= 40; i++) await append(writer, 'long', [`k${i}`]);
    await expect.poll(() => app.seqs('long')).toEqual(range(1, 41));
    expect(app.violations).toEqual([]);
    // A subscription on sync_event would hold all 40; the event table holds none.
    expect(client.cachedEventCount).toBe(0);
    expect(client.currentState).toBe('live');
  });

  it('loses and repeats nothing across replay → live while a writer keeps appending', async () => {
    const { devhost, writer } = await hostWithWriter();
    const batch = (from: number) => Array.from({ length: 50 }, (_, j) => eventInput('busy', `b${from + j}`));
    for (let i = 0; i < 400; i += 50)
      await writer.conn.reducers.appendSyncEvents({ events: batch(i), cursor: undefined });
    const token = await readerToken(devhost, ['busy']);
    // The writer goes on while the client connects, replays and turns live.
    let written = 400;
    let writing = true;
    const writes = (async () => {
      while (writing) {
        await writer.conn.reducers.appendSyncEvents({ events: batch(written), cursor: undefined });
        written += 50;
      }
    })();
    const app = new Recorder();
    const client = await SyncClient.open(['busy'], {
      uri: devhost.url,
      database: SYNC_DB,
      token,
      clientId: 'desk-busy',
      store: new MemoryCursorStore(),
      onEvent: app.onEvent,
    });
    cleanups.push(() => client.close());
    await client.waitLive(60_000);
    // Keep writing until some events arrived live, after the replay.
    const liveFrom = written;
    await expect.poll(() => written, { timeout: 30_000 }).toBeGreaterThan(liveFrom + 100);
    writing = false;
    await writes;
    await expect.poll(() => app.seqs('busy').length, { timeout: 10_000 }).toBe(written);
    expect(app.seqs('busy')).toEqual(range(1, written));
    expect(app.violations).toEqual([]);
  });

  it('replays a long backlog window by window, holding a few windows rather than the backlog, then follows live', async () => {
    const { devhost, writer } = await hostWithWriter();
    for (let i = 0; i < 300; i += 100) {
      const events = Array.from({ length: 100 }, (_, j) => eventInput('backlog', `b${i + j + 1}`));
      await writer.conn.reducers.appendSyncEvents({ events, cursor: undefined });
    }
    const app = new Recorder();
    let peakCached = 0;
    const progress: bigint[] = [];
    let client: SyncClient | undefined;
    client = await SyncClient.open(['backlog'], {
      uri: devhost.url,
      database: SYNC_DB,
      token: await readerToken(devhost, ['backlog']),
      clientId: 'desk-backlog',
      store: new MemoryCursorStore(),
      onEvent: (stream, e) => {
        app.onEvent(stream, e);
        peakCached = Math.max(peakCached, client?.cachedEventCount ?? 0);
      },
      onProgress: (_s, applied) => {
        progress.push(applied);
      },
      replayWindow: 40,
    });
    cleanups.push(() => (client as SyncClient).close());
    await client.waitLive();
    expect(app.seqs('backlog')).toEqual(range(1, 300));
    expect(app.violations).toEqual([]);
    // A few windows at most (the one being applied, the one before it until its unsubscribe lands,
    // and the next), never the 300-event backlog.
    expect(peakCached).toBeGreaterThan(0);
    expect(peakCached).toBeLessThanOrEqual(120);
    // Progress came window by window.
    expect(progress.slice(0, 3)).toEqual([40n, 80n, 120n]);
    await append(writer, 'backlog', ['live-1']);
    await expect.poll(() => app.seqs('backlog').at(-1)).toBe(301n);
  });

  it('replays in windows by default: a backlog over DEFAULT_REPLAY_WINDOW never sits whole in the cache', async () => {
    const { devhost, writer } = await hostWithWriter();
    const total = 3 * DEFAULT_REPLAY_WINDOW + 500;
    for (let i = 0; i < total; i += 500) {
      const events = Array.from({ length: 500 }, (_, j) => eventInput('deep', `d${i + j + 1}`));
      await writer.conn.reducers.appendSyncEvents({ events, cursor: undefined });
    }
    const app = new Recorder();
    let peakCached = 0;
    let client: SyncClient | undefined;
    // No replayWindow option: the default applies.
    client = await SyncClient.open(['deep'], {
      uri: devhost.url,
      database: SYNC_DB,
      token: await readerToken(devhost, ['deep']),
      clientId: 'desk-deep',
      store: new MemoryCursorStore(),
      onEvent: (stream, e) => {
        app.onEvent(stream, e);
        peakCached = Math.max(peakCached, client?.cachedEventCount ?? 0);
      },
    });
    cleanups.push(() => (client as SyncClient).close());
    await client.waitLive();
    expect(app.seqs('deep')).toEqual(range(1, total));
    expect(app.violations).toEqual([]);
    expect(peakCached).toBeGreaterThan(0);
    expect(peakCached).toBeLessThanOrEqual(3 * DEFAULT_REPLAY_WINDOW);
    // Once live, the replay's rows have left the cache: the live event table holds none.
    await expect.poll(() => client?.cachedEventCount).toBe(0);
    await append(writer, 'deep', ['live-1']);
    await expect.poll(() => app.seqs('deep').at(-1)).toBe(BigInt(total + 1));
  });

  it('rejects a replayWindow that is not a whole number ≥ 0 before connecting', async () => {
    await expect(
      SyncClient.open(['x'], {
        uri: 'ws://127.0.0.1:9',
        database: SYNC_DB,
        clientId: 'bad-window',
        store: new MemoryCursorStore(),
        onEvent: () => {},
        replayWindow: -1,
      }),
    ).rejects.toThrow(/replayWindow must be a whole number/);
  });

  it('never delivers an event twice when the client closes while updates are arriving', async () => {
    const { devhost, writer } = await hostWithWriter();
    const store = new MemoryCursorStore();
    const app = new Recorder();
    // Rapid close/reopen while updates arrive: where the model test once caught a duplicate.
    for (let i = 1; i <= 12; i++) {
      const client = await open(devhost, ['racy'], store, app);
      void append(writer, 'racy', [`k${i}`]);
      await new Promise((r) => setTimeout(r, i % 4));
      await client.close();
    }
    const last = await open(devhost, ['racy'], store, app);
    await last.waitLive();
    await expect.poll(() => app.seqs('racy')).toEqual(range(1, 12));
    expect(app.violations).toEqual([]);
  });

  it('follows two epoch changes in quick succession (a rebootstrap interrupted by another)', async () => {
    const { devhost, writer } = await hostWithWriter();
    const app = new Recorder();
    const client = await open(devhost, ['twice'], new MemoryCursorStore(), app);
    await client.waitLive();
    // Found by the model test: append, reset, append, reset, append while the client is live.
    await append(writer, 'twice', ['k0']);
    await writer.conn.reducers.resetStream({ streamId: 'twice' });
    await append(writer, 'twice', ['k0']);
    await writer.conn.reducers.resetStream({ streamId: 'twice' });
    await append(writer, 'twice', ['k0']);
    await expect.poll(() => app.seqs('twice')).toEqual([3n]);
    expect(app.rebootstraps.at(-1)?.epoch).toBe(3n);
    expect(app.violations).toEqual([]);
  });

  it('detects a stale cursor below the low watermark on resume', async () => {
    const { devhost, writer } = await hostWithWriter();
    const store = new MemoryCursorStore();
    await store.save('trimmed', { epoch: 1n, watermark: 1n });
    await append(writer, 'trimmed', ['1', '2', '3', '4', '5', '6']);
    await writer.conn.reducers.configureStream({
      streamId: 'trimmed',
      retainMinEvents: 2n,
      compactByKey: false,
    });
    await writer.conn.reducers.compactStream({ streamId: 'trimmed' });
    const app = new Recorder();
    const client = await open(devhost, ['trimmed'], store, app);
    await client.waitLive();
    expect(app.rebootstraps[0]?.reason).toEqual({
      kind: 'below_low_watermark',
      watermark: 1n,
      lowWatermark: 5n,
    });
    expect(app.seqs('trimmed')).toEqual([5n, 6n]);
  });
});
