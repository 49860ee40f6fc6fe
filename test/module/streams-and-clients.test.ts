/**
 * The sync module's streams and clients: who may write and read, checkpoints, presence, retention
 * and reset — through the unmodified SDK on devhost. The append path is in `append.test.ts`.
 */
import { Identity } from 'spacetimedb';
import { describe, expect, it } from 'vitest';
import { type Connected, connect, rejection, subscribe } from '../support/devhost-harness.js';
import {
  append,
  devhost,
  event,
  events,
  head,
  reader,
  useSyncModule,
  writer,
} from './testing/sync-module-fixture.js';

useSyncModule();

describe('authorization', () => {
  it('refuses appends and admin calls from identities that are not writers, until granted', async () => {
    const client = await connect(devhost);
    expect(await rejection(append(client, event('s-auth', 'k', 'v')))).toMatch(
      /^unauthorized: .* is not a sync writer/,
    );
    expect(
      await rejection(
        client.conn.reducers.grantWriter({
          identity: Identity.fromString(client.identityHex),
          label: 'self',
        }),
      ),
    ).toMatch(/unauthorized/);
    await writer.conn.reducers.grantWriter({
      identity: Identity.fromString(client.identityHex),
      label: 'runtime',
    });
    await append(client, event('s-auth', 'k', 'v'));
    expect(head(writer.conn, 's-auth')).toBe(1n);
    client.conn.disconnect();
  });
});

describe('read authorization', () => {
  it('shows a client only the streams it was granted; a grant reveals the stream, history included', async () => {
    await append(writer, event('secret:1', 'a', 'a'));
    await append(writer, event('secret:2', 'b', 'b'));
    const desk = await connect(devhost);
    await subscribe(desk.conn, [
      'SELECT * FROM sync_event',
      'SELECT * FROM sync_stream',
      'SELECT * FROM sync_checkpoint',
    ]);
    const seen = () =>
      [...desk.conn.db.syncEvent.iter()].map((e) => `${e.streamId}/${e.idempotencyKey}`).sort();
    expect(seen()).toEqual([]);
    expect(desk.conn.db.syncStream.stream_id.find('secret:1')).toBeNull();
    await writer.conn.reducers.grantStreamRead({
      reader: Identity.fromString(desk.identityHex),
      streamId: 'secret:1',
    });
    await expect.poll(seen).toEqual(['secret:1/a']);
    expect(desk.conn.db.syncStream.stream_id.find('secret:1')?.headSeq).toBe(1n);
    await append(writer, event('secret:1', 'c', 'c'));
    await append(writer, event('secret:2', 'd', 'd'));
    await expect.poll(seen).toEqual(['secret:1/a', 'secret:1/c']);
    await writer.conn.reducers.revokeStreamRead({
      reader: Identity.fromString(desk.identityHex),
      streamId: 'secret:1',
    });
    await expect.poll(seen).toEqual([]);
    expect(desk.conn.db.syncStream.stream_id.find('secret:1')).toBeNull();
    // Checkpoints are private to the identity that acked them.
    expect(
      [...desk.conn.db.syncCheckpoint.iter()].every((c) => c.owner.toHexString() === desk.identityHex),
    ).toBe(true);
    desk.conn.disconnect();
  });
});

describe('ack_checkpoint', () => {
  it('is monotonic, bounded by the head, epoch-checked and bound to one identity', async () => {
    for (const k of ['1', '2', '3']) await append(writer, event('s-ack', k, k));
    await writer.conn.reducers.grantStreamRead({
      reader: Identity.fromString(reader.identityHex),
      streamId: 's-ack',
    });
    const ack = (c: Connected, seq: bigint, epoch = 1n, client = 'desk-1') =>
      c.conn.reducers.ackCheckpoint({ clientId: client, streamId: 's-ack', ackedSeq: seq, epoch });
    const acked = () =>
      [...reader.conn.db.syncCheckpoint.iter()].find((c) => c.clientId === 'desk-1' && c.streamId === 's-ack')
        ?.ackedSeq;
    await ack(reader, 2n);
    expect(acked()).toBe(2n);
    await ack(reader, 1n); // late, lower ack: accepted, ignored
    expect(acked()).toBe(2n);
    expect(await rejection(ack(reader, 4n))).toMatch(/^beyond_head: /);
    expect(await rejection(ack(reader, 3n, 7n))).toMatch(/^stale_cursor: .*epoch 1/);
    // Another identity can neither ack the stream nor touch desk-1 (client ids live in each identity's namespace).
    const other = await connect(devhost);
    expect(await rejection(ack(other, 3n))).toMatch(/^unauthorized: no read grant for stream 's-ack'/);
    other.conn.disconnect();
    await ack(reader, 3n);
    expect(acked()).toBe(3n);
  });
});

describe('presence', () => {
  it('upserts with a TTL, expires on the maintenance timer, and clears on disconnect', async () => {
    const desk = await connect(devhost);
    await subscribe(desk.conn, ['SELECT * FROM session_presence']);
    // The owner sees every session (row-level security shows others their own only: access.test.ts).
    await subscribe(writer.conn, ['SELECT * FROM session_presence']);
    // Seen as it arrives: with a 500 ms TTL a sweep may remove the row before a later look at the cache.
    const inserted: string[] = [];
    writer.conn.db.sessionPresence.onInsert((_ctx, r) => inserted.push(`${r.sessionId} ${r.state}`));
    await desk.conn.reducers.upsertPresence({
      sessionId: 'sess-exp',
      deviceId: 'd1',
      streams: ['s'],
      state: 'live',
      ttlMs: 500,
    });
    await desk.conn.reducers.upsertPresence({
      sessionId: 'sess-conn',
      deviceId: 'd1',
      streams: ['s'],
      state: 'live',
      ttlMs: 600_000,
    });
    await expect.poll(() => inserted).toContain('sess-exp live');
    // Another identity cannot take a live session over (asked of the long-lived one: the short one
    // may be swept by then).
    expect(
      await rejection(
        reader.conn.reducers.upsertPresence({
          sessionId: 'sess-conn',
          deviceId: 'x',
          streams: [],
          state: 'live',
          ttlMs: 500,
        }),
      ),
    ).toMatch(/unauthorized/);
    // The maintenance timer runs every 5 s.
    await expect
      .poll(() => writer.conn.db.sessionPresence.session_id.find('sess-exp'), {
        timeout: 20_000,
        interval: 100,
      })
      .toBeNull();
    expect(writer.conn.db.sessionPresence.session_id.find('sess-conn')?.state).toBe('live');
    desk.conn.disconnect();
    await expect
      .poll(() => writer.conn.db.sessionPresence.session_id.find('sess-conn'), {
        timeout: 20_000,
        interval: 50,
      })
      .toBeNull();
  }, 60_000);
});

describe('retention', () => {
  it('keeps the window, advances the low watermark, and bumps the epoch only when an acked client needs lost history', async () => {
    for (let i = 1; i <= 6; i++) await append(writer, event('s-ret', `k${i}`, `v${i}`));
    await writer.conn.reducers.grantStreamRead({
      reader: Identity.fromString(reader.identityHex),
      streamId: 's-ret',
    });
    await reader.conn.reducers.ackCheckpoint({
      clientId: 'desk-ret',
      streamId: 's-ret',
      ackedSeq: 5n,
      epoch: 1n,
    });
    await writer.conn.reducers.configureStream({
      streamId: 's-ret',
      retainMinEvents: 3n,
      compactByKey: false,
    });
    await writer.conn.reducers.compactStream({ streamId: 's-ret' });
    let s = writer.conn.db.syncStream.stream_id.find('s-ret');
    expect(events(writer.conn, 's-ret').map((e) => e.seq)).toEqual([4n, 5n, 6n]);
    expect([s?.lowWatermark, s?.epoch]).toEqual([4n, 1n]); // the acked client (at 5) lost nothing it needs

    await reader.conn.reducers.ackCheckpoint({
      clientId: 'desk-slow',
      streamId: 's-ret',
      ackedSeq: 4n,
      epoch: 1n,
    });
    for (let i = 7; i <= 9; i++) await append(writer, event('s-ret', `k${i}`, `v${i}`));
    await writer.conn.reducers.compactStream({ streamId: 's-ret' });
    s = writer.conn.db.syncStream.stream_id.find('s-ret');
    expect(events(writer.conn, 's-ret').map((e) => e.seq)).toEqual([7n, 8n, 9n]);
    expect([s?.lowWatermark, s?.epoch]).toEqual([7n, 2n]); // desk-slow (at 4) needs 5 and 6: gone
  });

  it('reset drops history and moves the epoch', async () => {
    await append(writer, event('s-reset', 'a', 'a'));
    await writer.conn.reducers.resetStream({ streamId: 's-reset' });
    const s = writer.conn.db.syncStream.stream_id.find('s-reset');
    expect([s?.headSeq, s?.lowWatermark, s?.epoch]).toEqual([1n, 2n, 2n]);
    expect(events(writer.conn, 's-reset')).toEqual([]);
  });
});
