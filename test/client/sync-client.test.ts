/**
 * The desktop client library against the real module on devhost, through the unmodified SDK.
 * "The application" here is a recorder that asserts exactly-once, in-order delivery per stream.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Devhost } from '@spacetime-sync/devhost';
import fc from 'fast-check';
import { Identity } from 'spacetimedb';
import { afterEach, describe, expect, it } from 'vitest';
import { type CursorStore, FileCursorStore, MemoryCursorStore } from '../../client/cursor-store.js';
import { type ClientState, type RebootstrapInfo, SyncClient } from '../../client/sync-client.js';
import { type Connected, connect, SYNC_DB, startSyncDevhost, subscribe } from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sync-client-'));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function devhostWithWriter(
  dataDir?: string,
  port?: number,
): Promise<{ devhost: Devhost; writer: Connected }> {
  const devhost = await startSyncDevhost(dataDir, port);
  const writer = await connect(devhost, devhost.ownerToken);
  return { devhost, writer };
}

async function append(writer: Connected, stream: string, keys: string[]): Promise<void> {
  for (const key of keys) await writer.conn.reducers.appendSyncEvent({ event: eventInput(stream, key) });
}

/**
 * The application: records deliveries per stream since its last rebootstrap (a rebootstrap makes it
 * reload the stream), and notes any delivery that is not exactly the previous seq + 1.
 */
class Recorder {
  private readonly segments = new Map<string, bigint[]>();
  readonly rebootstraps: RebootstrapInfo[] = [];
  readonly states: ClientState[] = [];
  readonly violations: string[] = [];
  onEvent = (stream: string, e: { seq: bigint }) => {
    const list = this.segments.get(stream) ?? [];
    const last = list[list.length - 1];
    if (last !== undefined && e.seq !== last + 1n) this.violations.push(`${stream}: ${e.seq} after ${last}`);
    list.push(e.seq);
    this.segments.set(stream, list);
  };
  onRebootstrap = (info: RebootstrapInfo) => {
    this.rebootstraps.push(info);
    this.segments.set(info.streamId, []);
  };
  onState = (s: ClientState) => {
    this.states.push(s);
  };
  seqs(stream: string): bigint[] {
    return [...(this.segments.get(stream) ?? [])];
  }
}

/**
 * A desktop identity allowed to read `streams`: clients see only granted streams, so each test
 * device gets its own token and the owner (the adapter's identity) grants it the streams.
 */
const readers = new Map<string, Map<string, string>>();
async function readerToken(devhost: Devhost, streams: string[], device = 'desk-1'): Promise<string> {
  // Keyed by the host's address and owner: a devhost restarted on its data dir keeps its signing
  // key, so the device keeps its identity (and its checkpoints) across the restart.
  const host = `${devhost.url} ${devhost.ownerIdentity}`;
  let byDevice = readers.get(host);
  if (!byDevice) {
    byDevice = new Map();
    readers.set(host, byDevice);
  }
  const reader = byDevice.get(device) ?? (await connect(devhost)).token;
  byDevice.set(device, reader);
  const probe = await connect(devhost, reader);
  const owner = await connect(devhost, devhost.ownerToken);
  for (const streamId of streams) {
    await owner.conn.reducers.grantStreamRead({ reader: Identity.fromString(probe.identityHex), streamId });
  }
  probe.conn.disconnect();
  owner.conn.disconnect();
  return reader;
}

async function open(
  devhost: Devhost,
  streams: string[],
  store: CursorStore,
  app: Recorder,
  clientId = 'desk-1',
  extra: { replayWindow?: number } = {},
): Promise<SyncClient> {
  const client = await SyncClient.open(streams, {
    uri: devhost.url,
    database: SYNC_DB,
    token: await readerToken(devhost, streams, clientId),
    clientId,
    store,
    onEvent: app.onEvent,
    onRebootstrap: app.onRebootstrap,
    onState: app.onState,
    ackIntervalMs: 50,
    backoff: { baseMs: 50, capMs: 500 },
    rebootstrap: { minDelayMs: 1, maxDelayMs: 20, maxInWindow: 20, windowMs: 60_000 },
    ...extra,
  });
  cleanups.push(() => client.close());
  return client;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));

describe('SyncClient', () => {
  it('replays from the beginning, then follows live, with no gap or duplicate at the seam', async () => {
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
    await append(writer, 'orders', ['a', 'b', 'c', 'd', 'e']);
    const app = new Recorder();
    const store = new MemoryCursorStore();
    const client = await open(devhost, ['orders', 'empty'], store, app);
    await client.waitLive();
    expect(app.seqs('orders')).toEqual(range(1, 5));
    await append(writer, 'orders', ['f', 'g', 'h']);
    await append(writer, 'empty', ['x']);
    await expect.poll(() => app.seqs('orders'), { timeout: 5_000 }).toEqual(range(1, 8));
    await expect.poll(() => app.seqs('empty'), { timeout: 5_000 }).toEqual([1n]);
    expect(app.violations).toEqual([]);
    await expect.poll(async () => (await store.load('orders'))?.watermark, { timeout: 5_000 }).toBe(8n);
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
        { timeout: 5_000 },
      )
      .toBe(8n);
  });

  it('resumes after a client restart from the file store, delivering only what is new', async () => {
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
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
    await expect.poll(() => client.currentState, { timeout: 5_000 }).toBe('backoff');
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
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
    await append(writer, 'reset-me', ['a', 'b']);
    const app = new Recorder();
    const client = await open(devhost, ['reset-me'], new MemoryCursorStore(), app);
    await client.waitLive();
    await writer.conn.reducers.resetStream({ streamId: 'reset-me' });
    await expect.poll(() => app.rebootstraps.length, { timeout: 5_000 }).toBe(1);
    expect(app.rebootstraps[0]?.reason).toEqual({ kind: 'epoch_changed', fromEpoch: 1n, toEpoch: 2n });
    await append(writer, 'reset-me', ['c']);
    await expect.poll(() => app.seqs('reset-me'), { timeout: 5_000 }).toEqual([3n]);
    expect(app.violations).toEqual([]);
  });

  it('follows live through the event table: nothing stays cached and nothing is re-subscribed, without a gap or duplicate', async () => {
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
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
    await expect.poll(() => client.cachedEventCount, { timeout: 5_000 }).toBe(0);
    for (let i = 1; i <= 40; i++) await append(writer, 'long', [`k${i}`]);
    await expect.poll(() => app.seqs('long'), { timeout: 5_000 }).toEqual(range(1, 41));
    expect(app.violations).toEqual([]);
    // A subscription on sync_event would hold all 40; the event table holds none.
    expect(client.cachedEventCount).toBe(0);
    expect(client.currentState).toBe('live');
  });

  it('loses and repeats nothing across replay → live while a writer keeps appending', async () => {
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
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
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
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
    await expect.poll(() => app.seqs('backlog').at(-1), { timeout: 5_000 }).toBe(301n);
  });

  it('never delivers an event twice when the client closes while updates are arriving', async () => {
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
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
    await expect.poll(() => app.seqs('racy'), { timeout: 5_000 }).toEqual(range(1, 12));
    expect(app.violations).toEqual([]);
  });

  it('follows two epoch changes in quick succession (a rebootstrap interrupted by another)', async () => {
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
    const app = new Recorder();
    const client = await open(devhost, ['twice'], new MemoryCursorStore(), app);
    await client.waitLive();
    // Found by the model test: append, reset, append, reset, append while the client is live.
    await append(writer, 'twice', ['k0']);
    await writer.conn.reducers.resetStream({ streamId: 'twice' });
    await append(writer, 'twice', ['k0']);
    await writer.conn.reducers.resetStream({ streamId: 'twice' });
    await append(writer, 'twice', ['k0']);
    await expect.poll(() => app.seqs('twice'), { timeout: 5_000 }).toEqual([3n]);
    expect(app.rebootstraps.at(-1)?.epoch).toBe(3n);
    expect(app.violations).toEqual([]);
  });

  it('detects a stale cursor below the low watermark on resume', async () => {
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
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

describe('SyncClient presence and tail', () => {
  it('heartbeats presence while open and the server clears it when the client goes away', async () => {
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
    await new Promise<void>((r) =>
      writer.conn
        .subscriptionBuilder()
        .onApplied(() => r())
        .subscribe('SELECT * FROM session_presence'),
    );
    const client = await SyncClient.open(['p'], {
      uri: devhost.url,
      database: SYNC_DB,
      clientId: 'desk-p',
      store: new MemoryCursorStore(),
      onEvent: () => {},
      presence: { sessionId: 'sess-p', deviceId: 'laptop', ttlMs: 300 },
    });
    await client.waitLive();
    await expect
      .poll(() => writer.conn.db.sessionPresence.session_id.find('sess-p')?.state, { timeout: 5_000 })
      .toBe('live');
    const first =
      writer.conn.db.sessionPresence.session_id.find('sess-p')?.lastSeen.microsSinceUnixEpoch ?? 0n;
    await expect
      .poll(
        () =>
          (writer.conn.db.sessionPresence.session_id.find('sess-p')?.lastSeen.microsSinceUnixEpoch ?? 0n) >
          first,
        { timeout: 5_000 },
      )
      .toBe(true);
    await client.close();
    await expect
      .poll(() => writer.conn.db.sessionPresence.session_id.find('sess-p'), { timeout: 5_000 })
      .toBeNull();
  });

  it('`spacetime-sync tail` prints events and resumes from its store after a restart', async () => {
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
    const store = join(await tempDir(), 'tail.json');
    await append(writer, 'tailed', ['a', 'b']);
    const token = await readerToken(devhost, ['tailed'], 'tail');
    const bin = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
    const tail = async (expectLines: number, savedWatermark: bigint) => {
      const child = spawn(
        process.execPath,
        [bin, 'tail', 'tailed', '--store', store, '--spacetimedb', devhost.url, '--database', SYNC_DB],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SPACETIMEDB_TOKEN: token } },
      );
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      await expect
        .poll(() => out.trim().split('\n').filter(Boolean).length, { timeout: 10_000 })
        .toBe(expectLines);
      // The cursor is saved after delivery: stop only once the store holds the last printed seq.
      await expect
        .poll(async () => (await new FileCursorStore(store).load('tailed'))?.watermark, { timeout: 10_000 })
        .toBe(savedWatermark);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      return out.trim().split('\n');
    };
    expect(await tail(2, 2n)).toEqual(['tailed\t1\ttest.v1\ttailed:a', 'tailed\t2\ttest.v1\ttailed:b']);
    await append(writer, 'tailed', ['c']);
    expect(await tail(1, 3n)).toEqual(['tailed\t3\ttest.v1\ttailed:c']);
  });
});

describe('SyncClient model', () => {
  it('under random appends, duplicates, reconnects, devhost restarts, truncations and epoch bumps: each event once, in order, or an explicit rebootstrap', async () => {
    const dataDir = await tempDir();
    let world = await devhostWithWriter(dataDir);
    const port = world.devhost.port;
    cleanups.push(async () => {
      world.writer.conn.disconnect();
      await world.devhost.stop();
    });
    const watchStreams = (w: typeof world) => subscribe(w.writer.conn, ['SELECT * FROM sync_stream']);
    await watchStreams(world);

    const stream = fc.constantFrom('m1', 'm2');
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), stream, key: fc.nat(30) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('toggle' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('truncate' as const),
          stream,
          keep: fc.integer({ min: 1, max: 4 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), stream }) },
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 3, maxLength: 15 }), async (ops) => {
        round++;
        const name = (s: string) => `${s}-r${round}`;
        const store = new MemoryCursorStore();
        const app = new Recorder();
        const streams = [name('m1'), name('m2')];
        const clientId = `model-${round}`;
        // Windows of 2 seqs: every replay in the model goes window by window.
        const reopen = () => open(world.devhost, streams, store, app, clientId, { replayWindow: 2 });
        let client: SyncClient | undefined = await reopen();
        for (const o of ops) {
          const { writer } = world;
          if (o.kind === 'append') {
            // Keys repeat (0..30), so many appends are duplicates the module answers as no-ops.
            await append(writer, name(o.stream), [`k${o.key}`]);
          } else if (o.kind === 'reset') {
            await writer.conn.reducers.resetStream({ streamId: name(o.stream) }).catch(() => {});
          } else if (o.kind === 'truncate') {
            // Retention down to the newest `keep` events, applied now, then switched off again so
            // the maintenance timer cannot move history while the final state is read.
            const streamId = name(o.stream);
            const configure = (n: number) =>
              writer.conn.reducers.configureStream({
                streamId,
                retainMinEvents: BigInt(n),
                compactByKey: false,
              });
            if (
              await configure(o.keep).then(
                () => true,
                () => false,
              )
            ) {
              await writer.conn.reducers.compactStream({ streamId });
              await configure(0);
            }
          } else if (o.kind === 'restart') {
            // The client stays open: it sees the socket drop, backs off and resumes.
            writer.conn.disconnect();
            await world.devhost.stop();
            world = await devhostWithWriter(dataDir, port);
            await watchStreams(world);
          } else if (client) {
            await client.close();
            client = undefined;
          } else {
            client = await reopen();
          }
        }
        client ??= await reopen();
        await client.waitLive();
        for (const s of streams) {
          // Since its last rebootstrap (or from seq 1), the application holds exactly the retained
          // run up to the head: nothing skipped silently at the start, nothing missing at the end.
          const expected = () => {
            const head = world.writer.conn.db.syncStream.stream_id.find(s)?.headSeq ?? 0n;
            const last = app.rebootstraps.filter((r) => r.streamId === s).at(-1);
            const from = last?.lowWatermark ?? 1n;
            return from > head ? [] : range(Number(from), Number(head));
          };
          await expect
            .poll(() => ({ stream: s, got: app.seqs(s), want: expected() }), { timeout: 10_000 })
            .toSatisfy(({ got, want }) => String(got) === String(want));
        }
        expect(app.violations).toEqual([]);
        await client.close();
      }),
      { numRuns: 30 },
    );
  }, 240_000);
});
