/**
 * Leaving a subscription without the host sending its rows back (patches/spacetimedb+2.10.1.patch,
 * `dropRowsLocallyOnUnsubscribe`): the SDK follows the rows each such subscription holds and drops
 * them from its cache itself, and asks for `UnsubscribeFlags.Default`. What a user would notice if
 * that were wrong: rows left behind in the cache (memory that grows with every replay window), rows
 * another subscription still holds disappearing, or the host re-sending every row of every window.
 */
import type { Devhost } from '@spacetime-sync/devhost';
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import { SyncClient } from '../../client/sync-client.js';
import type { DbConnection } from '../../module/bindings/index.js';
import { type Connected, connect, SYNC_DB, startSyncDevhost } from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';
import { cleanups, Recorder, range, readerToken } from './testing/sync-client-fixture.js';

/**
 * The flags of every `Unsubscribe` the SDK sends from now on, read off its socket: the global
 * `WebSocket` (which the SDK resolves at each connect) is replaced by one that decodes outgoing
 * client messages (BSATN, ../shared/docs/spacetimedb-host-spec.md 3.4; a v3 frame may hold several).
 */
function unsubscribeFlags(): string[] {
  const flags: string[] = [];
  const g = globalThis as { WebSocket?: unknown };
  const before = g.WebSocket;
  class Recording extends NodeWebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      if (data instanceof Uint8Array) readClientMessages(data, flags);
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  }
  g.WebSocket = Recording;
  cleanups.push(async () => {
    g.WebSocket = before;
  });
  return flags;
}

/** Walks the client messages of one frame, noting each Unsubscribe's flags. */
function readClientMessages(frame: Uint8Array, flags: string[]): void {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let at = 0;
  const u32 = () => {
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  const bytes = () => {
    const length = u32();
    at += length;
  };
  while (at < frame.length) {
    const tag = frame[at++];
    if (tag === 0) {
      // Subscribe { requestId, querySetId, queryStrings: string[] }
      u32();
      u32();
      for (let n = u32(); n > 0; n--) bytes();
    } else if (tag === 1) {
      // Unsubscribe { requestId, querySetId, flags: 0 Default | 1 SendDroppedRows }
      u32();
      u32();
      flags.push(frame[at++] === 0 ? 'Default' : 'SendDroppedRows');
    } else if (tag === 2) {
      // OneOffQuery { requestId, queryString }
      u32();
      bytes();
    } else if (tag === 3 || tag === 4) {
      // CallReducer / CallProcedure { requestId, flags: u8, name, args }
      u32();
      at++;
      bytes();
      bytes();
    } else throw new Error(`unknown client message tag ${tag}`);
  }
}

async function devhostAndWriter(): Promise<{ devhost: Devhost; writer: Connected }> {
  const devhost = await startSyncDevhost();
  const writer = await connect(devhost, devhost.ownerToken);
  cleanups.push(async () => {
    writer.conn.disconnect();
    await devhost.stop();
  });
  return { devhost, writer };
}

const appendN = (writer: Connected, stream: string, from: number, n: number) =>
  writer.conn.reducers.appendSyncEvents({
    events: Array.from({ length: n }, (_, i) => eventInput(stream, `${stream}${from + i}`)),
    cursor: undefined,
  });

const cachedSeqs = (conn: DbConnection, stream: string) =>
  [...conn.db.syncEvent.iter()]
    .filter((r) => r.streamId === stream)
    .map((r) => r.seq)
    .sort((a, b) => (a < b ? -1 : 1));

function subscribed(conn: DbConnection, sql: string, local: boolean) {
  return new Promise<ReturnType<ReturnType<DbConnection['subscriptionBuilder']>['subscribe']>>(
    (resolve, reject) => {
      let builder = conn.subscriptionBuilder();
      if (local) builder = builder.dropRowsLocallyOnUnsubscribe();
      const handle = builder
        .onApplied(() => resolve(handle))
        .onError((ctx) => reject(ctx.event))
        .subscribe([sql]);
    },
  );
}

describe('a subscription that drops its rows locally on unsubscribe', () => {
  it('leaves the cache as SendDroppedRows would, following inserts and deletes made while it was held, without the rows sent back', async () => {
    const { devhost, writer } = await devhostAndWriter();
    await appendN(writer, 'a', 1, 10);
    await appendN(writer, 'b', 1, 4);
    const flags = unsubscribeFlags();
    const reader = await connect(devhost, devhost.ownerToken);
    cleanups.push(async () => reader.conn.disconnect());
    const deleted: bigint[] = [];
    reader.conn.db.syncEvent.onDelete((_ctx, row) => deleted.push(row.seq));

    const local = await subscribed(reader.conn, "SELECT * FROM sync_event WHERE stream_id = 'a'", true);
    // A second subscription holds some of the same rows (the cache counts them twice).
    const other = await subscribed(
      reader.conn,
      "SELECT * FROM sync_event WHERE stream_id = 'a' AND seq >= 12",
      false,
    );
    const streamB = await subscribed(reader.conn, "SELECT * FROM sync_event WHERE stream_id = 'b'", false);
    // While held: three more rows arrive, then retention deletes all but the newest five.
    await appendN(writer, 'a', 11, 3);
    await writer.conn.reducers.configureStream({ streamId: 'a', retainMinEvents: 5n, compactByKey: false });
    await writer.conn.reducers.compactStream({ streamId: 'a' });
    await expect.poll(() => cachedSeqs(reader.conn, 'a')).toEqual(range(9, 13));
    expect(deleted.sort((x, y) => (x < y ? -1 : 1))).toEqual(range(1, 8));

    await new Promise<void>((resolve) => local.unsubscribeThen(() => resolve()));
    expect(flags).toEqual(['Default']);
    // 9–11 were the local subscription's alone; 12 and 13 stay for the other one.
    expect(cachedSeqs(reader.conn, 'a')).toEqual(range(12, 13));
    expect(deleted.slice(8).sort((x, y) => (x < y ? -1 : 1))).toEqual(range(9, 11));
    expect(cachedSeqs(reader.conn, 'b')).toEqual(range(1, 4));

    // A subscription without the option still has its rows sent back, as before.
    await new Promise<void>((resolve) => other.unsubscribeThen(() => resolve()));
    expect(flags).toEqual(['Default', 'SendDroppedRows']);
    expect(cachedSeqs(reader.conn, 'a')).toEqual([]);
    expect(cachedSeqs(reader.conn, 'b')).toEqual(range(1, 4));
    streamB.unsubscribe();
  });

  it('lets a windowed replay reach live with every event once and an empty cache, the host asked for no rows back', async () => {
    const { devhost, writer } = await devhostAndWriter();
    for (let i = 1; i <= 2_500; i += 500) await appendN(writer, 'deep', i, 500);
    const flags = unsubscribeFlags();
    const app = new Recorder();
    const client = await SyncClient.open(['deep'], {
      uri: devhost.url,
      database: SYNC_DB,
      token: await readerToken(devhost, ['deep']),
      clientId: 'desk-local-drop',
      store: new MemoryCursorStore(),
      onEvent: app.onEvent,
      replayWindow: 400,
    });
    cleanups.push(() => client.close());
    await client.waitLive();
    expect(app.seqs('deep')).toEqual(range(1, 2_500));
    expect(app.violations).toEqual([]);
    await expect.poll(() => client.cachedEventCount).toBe(0);
    expect(flags.length).toBeGreaterThanOrEqual(6);
    expect(new Set(flags)).toEqual(new Set(['Default']));
  });
});
