/**
 * Who sees and may do what in the sync module, tried as an attacker would (security audit findings 6,
 * 8, 9 and issue 14's writer identity): the real module on devhost, through the unmodified SDK.
 * `owner` published the module; `adapter` is an identity the owner granted writer (what the service
 * runs as); `desk` is a reader granted one stream; `stranger` is any anonymous identity.
 */

import type { Devhost } from '@spacetime-sync/devhost';
import { Identity } from 'spacetimedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Connected,
  connect,
  rejection,
  startSyncDevhost,
  subscribe,
} from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';

let devhost: Devhost;
let owner: Connected;
let adapter: Connected;
let desk: Connected;
let stranger: Connected;

const id = (c: Connected) => Identity.fromString(c.identityHex);

beforeAll(async () => {
  devhost = await startSyncDevhost();
  owner = await connect(devhost, devhost.ownerToken);
  [adapter, desk, stranger] = await Promise.all([connect(devhost), connect(devhost), connect(devhost)]);
  await owner.conn.reducers.grantWriter({ identity: id(adapter), label: 'adapter' });
  await adapter.conn.reducers.appendSyncEvents({
    events: [eventInput('acc:a', 'a1'), eventInput('acc:b', 'b1')],
    cursor: {
      consumerGroup: 'g',
      topic: 'authority.events',
      partition: 0,
      nextOffset: 7n,
      fromOffset: undefined,
    },
  });
  await adapter.conn.reducers.grantStreamRead({ reader: id(desk), streamId: 'acc:a' });
}, 60_000);

afterAll(async () => {
  for (const c of [owner, adapter, desk, stranger]) c?.conn.disconnect();
  await devhost?.stop();
});

describe('the adapter as a writer identity, not the owner', () => {
  it('reads every stream head and the Kafka cursors without any read grant', async () => {
    await subscribe(adapter.conn, ['SELECT * FROM sync_stream', 'SELECT * FROM source_cursor']);
    expect([...adapter.conn.db.syncStream.iter()].map((s) => s.streamId).sort()).toEqual(
      expect.arrayContaining(['acc:a', 'acc:b']),
    );
    expect([...adapter.conn.db.sourceCursor.iter()].map((c) => [c.topic, c.nextOffset])).toEqual([
      ['authority.events', 7n],
    ]);
  });

  it('shows the cursors and ungranted stream heads to no one else', async () => {
    const rows = await connect(devhost);
    await subscribe(rows.conn, ['SELECT * FROM sync_stream', 'SELECT * FROM source_cursor']);
    expect([...rows.conn.db.syncStream.iter()]).toEqual([]);
    expect([...rows.conn.db.sourceCursor.iter()]).toEqual([]);
    rows.conn.disconnect();
  });

  it('loses that view the moment its writer grant is revoked', async () => {
    const temp = await connect(devhost);
    await owner.conn.reducers.grantWriter({ identity: id(temp), label: 'temp' });
    await subscribe(temp.conn, ['SELECT * FROM source_cursor']);
    expect([...temp.conn.db.sourceCursor.iter()]).toHaveLength(1);
    await owner.conn.reducers.revokeWriter({ identity: id(temp) });
    await expect.poll(() => [...temp.conn.db.sourceCursor.iter()].length).toBe(0);
    temp.conn.disconnect();
  });

  it('keeps the private tables private (grants and writers stay the owner’s)', async () => {
    for (const table of ['sync_writer', 'stream_grant'])
      expect(await rejection(subscribe(adapter.conn, [`SELECT * FROM ${table}`]))).toMatch(
        /no such table|not/i,
      );
  });
});

describe('metadata leaks', () => {
  it('shows append receipts to the caller only', async () => {
    const seen: string[] = [];
    stranger.conn.db.appendReceipt.onInsert((_ctx, r) => seen.push(`${r.streamId}/${r.idempotencyKey}`));
    await subscribe(stranger.conn, ['SELECT * FROM append_receipt']);
    const mine: string[] = [];
    adapter.conn.db.appendReceipt.onInsert((_ctx, r) => mine.push(`${r.streamId}/${r.idempotencyKey}`));
    await subscribe(adapter.conn, ['SELECT * FROM append_receipt']);
    await adapter.conn.reducers.appendSyncEvent({ event: eventInput('acc:secret', 's1') });
    // The stranger's own later call answers after every earlier update reached it (one ordered socket).
    await stranger.conn.reducers.upsertPresence({
      sessionId: 'stranger-s',
      deviceId: 'd',
      streams: [],
      state: 'live',
      ttlMs: 60_000,
    });
    expect(mine).toContain('acc:secret/s1');
    expect(seen).toEqual([]);
  });

  it('shows presence rows (identity, connection id, device, streams) to their own identity only', async () => {
    await desk.conn.reducers.upsertPresence({
      sessionId: 'desk-s',
      deviceId: 'laptop',
      streams: ['acc:a', 'payroll:7'],
      state: 'live',
      ttlMs: 60_000,
    });
    const other = await connect(devhost);
    await subscribe(other.conn, ['SELECT * FROM session_presence']);
    expect([...other.conn.db.sessionPresence.iter()]).toEqual([]);
    await subscribe(desk.conn, ['SELECT * FROM session_presence']);
    expect([...desk.conn.db.sessionPresence.iter()].map((p) => p.sessionId)).toEqual(['desk-s']);
    other.conn.disconnect();
  });

  it('answers an ack on a stream the caller may not read the same way whether it exists or not', async () => {
    const ack = (streamId: string, ackedSeq: bigint, epoch: bigint) =>
      rejection(stranger.conn.reducers.ackCheckpoint({ clientId: 'c', streamId, ackedSeq, epoch }));
    const existing = await ack('acc:b', 2n ** 64n - 1n, 1n);
    const stale = await ack('acc:b', 0n, 99n);
    const missing = await ack('nope:1', 0n, 1n);
    for (const [msg, stream] of [
      [existing, 'acc:b'],
      [stale, 'acc:b'],
      [missing, 'nope:1'],
    ] as const) {
      expect(msg).toMatch(/^unauthorized: no read grant for stream '/);
      // Nothing about the stream's head, epoch or existence.
      expect(msg?.replaceAll(stream, 'S')).toBe(existing?.replaceAll('acc:b', 'S'));
    }
  });

  it('lets an ungranted identity neither ack a stream nor force its epoch up through retention', async () => {
    await adapter.conn.reducers.appendSyncEvents({
      events: [1, 2, 3].map((i) => eventInput('acc:ret', `r${i}`)),
      cursor: undefined,
    });
    await adapter.conn.reducers.configureStream({
      streamId: 'acc:ret',
      retainMinEvents: 2n,
      compactByKey: false,
    });
    expect(
      await rejection(
        stranger.conn.reducers.ackCheckpoint({ clientId: 'x', streamId: 'acc:ret', ackedSeq: 0n, epoch: 1n }),
      ),
    ).toMatch(/^unauthorized: /);
    await adapter.conn.reducers.appendSyncEvents({
      events: [4, 5, 6].map((i) => eventInput('acc:ret', `r${i}`)),
      cursor: undefined,
    });
    await adapter.conn.reducers.compactStream({ streamId: 'acc:ret' });
    const s = adapter.conn.db.syncStream.stream_id.find('acc:ret');
    expect([s?.lowWatermark, s?.epoch]).toEqual([5n, 1n]);
  });

  it('lets a revoked reader’s old checkpoint hold no history back', async () => {
    const gone = await connect(devhost);
    await adapter.conn.reducers.appendSyncEvents({
      events: [1, 2, 3].map((i) => eventInput('acc:rev', `v${i}`)),
      cursor: undefined,
    });
    await adapter.conn.reducers.grantStreamRead({ reader: id(gone), streamId: 'acc:rev' });
    await gone.conn.reducers.ackCheckpoint({ clientId: 'g', streamId: 'acc:rev', ackedSeq: 1n, epoch: 1n });
    await adapter.conn.reducers.revokeStreamRead({ reader: id(gone), streamId: 'acc:rev' });
    await adapter.conn.reducers.configureStream({
      streamId: 'acc:rev',
      retainMinEvents: 1n,
      compactByKey: false,
    });
    await adapter.conn.reducers.compactStream({ streamId: 'acc:rev' });
    const s = adapter.conn.db.syncStream.stream_id.find('acc:rev');
    // Its ack at 1 would have needed seq 2, which retention dropped: no epoch bump for a reader that left.
    expect([s?.lowWatermark, s?.epoch]).toEqual([3n, 1n]);
    gone.conn.disconnect();
  });

  it('binds a client id to an identity within that identity’s namespace only', async () => {
    const other = await connect(devhost);
    await adapter.conn.reducers.grantStreamRead({ reader: id(other), streamId: 'acc:a' });
    // The stranger squats nothing: it cannot ack, and the id is free for every identity of its own.
    await desk.conn.reducers.ackCheckpoint({
      clientId: 'laptop',
      streamId: 'acc:a',
      ackedSeq: 1n,
      epoch: 1n,
    });
    await other.conn.reducers.ackCheckpoint({
      clientId: 'laptop',
      streamId: 'acc:a',
      ackedSeq: 0n,
      epoch: 1n,
    });
    await subscribe(desk.conn, ['SELECT * FROM sync_checkpoint']);
    await subscribe(other.conn, ['SELECT * FROM sync_checkpoint']);
    expect([...desk.conn.db.syncCheckpoint.iter()].map((c) => [c.clientId, c.ackedSeq])).toEqual([
      ['laptop', 1n],
    ]);
    expect([...other.conn.db.syncCheckpoint.iter()].map((c) => [c.clientId, c.ackedSeq])).toEqual([
      ['laptop', 0n],
    ]);
    other.conn.disconnect();
  });
});

describe('bounded per-identity state', () => {
  it('refuses a 1 MiB client id, and oversized presence, with a typed error', async () => {
    const huge = 'x'.repeat(1 << 20);
    expect(
      await rejection(
        desk.conn.reducers.ackCheckpoint({ clientId: huge, streamId: 'acc:a', ackedSeq: 0n, epoch: 1n }),
      ),
    ).toMatch(/^invalid: client_id must be 1\.\.256 characters/);
    expect(
      await rejection(
        desk.conn.reducers.upsertPresence({
          sessionId: 's',
          deviceId: huge,
          streams: [],
          state: 'live',
          ttlMs: 1000,
        }),
      ),
    ).toMatch(/^invalid: device_id/);
    expect(
      await rejection(
        desk.conn.reducers.upsertPresence({
          sessionId: 's',
          deviceId: 'd',
          streams: Array.from({ length: 20_000 }, (_, i) => `s${i}`),
          state: 'live',
          ttlMs: 1000,
        }),
      ),
    ).toMatch(/^invalid: a presence row lists at most/);
  });

  it('caps the presence sessions one identity holds', async () => {
    const spammer = await connect(devhost);
    const refusals: string[] = [];
    for (let i = 0; i < 70; i++) {
      const r = await rejection(
        spammer.conn.reducers.upsertPresence({
          sessionId: `spam-${i}`,
          deviceId: 'd',
          streams: [],
          state: 'live',
          ttlMs: 60_000,
        }),
      );
      if (r) refusals.push(r);
    }
    expect(refusals).toHaveLength(70 - 64);
    expect(refusals[0]).toMatch(/^invalid: an identity holds at most 64 presence sessions/);
    spammer.conn.disconnect();
  });
});
