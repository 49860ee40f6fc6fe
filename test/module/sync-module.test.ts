/**
 * The sync module as its users meet it: the real module bundle on devhost, called through the
 * unmodified SDK with the generated bindings. The owner connection is the adapter's identity
 * (initial writer); anonymous connections are desktop clients.
 */

import type { Devhost } from '@spacetime-sync/devhost';
import fc from 'fast-check';
import { Identity } from 'spacetimedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbConnection } from '../../module/bindings/index.js';
import {
  type Connected,
  connect,
  rejection,
  startSyncDevhost,
  subscribe,
} from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';

let devhost: Devhost;
let writer: Connected;
let reader: Connected;

beforeAll(async () => {
  devhost = await startSyncDevhost();
  writer = await connect(devhost, devhost.ownerToken);
  reader = await connect(devhost);
  await subscribe(writer.conn, [
    'SELECT * FROM sync_stream',
    'SELECT * FROM sync_event',
    'SELECT * FROM source_cursor',
    'SELECT * FROM append_receipt',
    'SELECT * FROM sync_checkpoint',
  ]);
  await subscribe(reader.conn, [
    'SELECT * FROM sync_stream',
    'SELECT * FROM session_presence',
    'SELECT * FROM sync_checkpoint',
  ]);
}, 60_000);

afterAll(async () => {
  writer?.conn.disconnect();
  reader?.conn.disconnect();
  await devhost?.stop();
});

function event(stream: string, key: string, body: string, sourceSeq = 0n) {
  return eventInput(stream, key, { body, sourceSeq });
}

function events(conn: DbConnection, stream: string): { seq: bigint; key: string }[] {
  return [...conn.db.syncEvent.iter()]
    .filter((e) => e.streamId === stream)
    .map((e) => ({ seq: e.seq, key: e.idempotencyKey }))
    .sort((a, b) => (a.seq < b.seq ? -1 : 1));
}

const head = (conn: DbConnection, stream: string) => conn.db.syncStream.stream_id.find(stream)?.headSeq;
const append = (c: Connected, e: ReturnType<typeof event>) => c.conn.reducers.appendSyncEvent({ event: e });
const appendBatch = (
  c: Connected,
  evs: ReturnType<typeof event>[],
  cursor?: { consumerGroup: string; topic: string; partition: number; nextOffset: bigint },
) => c.conn.reducers.appendSyncEvents({ events: evs, cursor });

describe('append_sync_event', () => {
  it('assigns seq 1..n per stream in arrival order', async () => {
    for (const k of ['a', 'b', 'c']) await append(writer, event('s-order', k, k));
    await append(writer, event('s-other', 'a', 'a'));
    expect(events(writer.conn, 's-order')).toEqual([
      { seq: 1n, key: 'a' },
      { seq: 2n, key: 'b' },
      { seq: 3n, key: 'c' },
    ]);
    expect(head(writer.conn, 's-other')).toBe(1n);
  });

  it('treats the same key with the same payload as a no-op and reports the existing seq', async () => {
    const receipts: { seq: bigint; status: string }[] = [];
    writer.conn.db.appendReceipt.onInsert((_ctx, r) => {
      if (r.streamId === 's-dup') receipts.push({ seq: r.seq, status: r.status });
    });
    await append(writer, event('s-dup', 'k1', 'one'));
    await append(writer, event('s-dup', 'k2', 'two'));
    await append(writer, event('s-dup', 'k1', 'one'));
    expect(events(writer.conn, 's-dup').map((e) => e.key)).toEqual(['k1', 'k2']);
    expect(receipts).toEqual([
      { seq: 1n, status: 'appended' },
      { seq: 2n, status: 'appended' },
      { seq: 1n, status: 'duplicate' },
    ]);
  });

  it('rejects the same key with a different payload as a conflict and writes nothing', async () => {
    await append(writer, event('s-conflict', 'k', 'original'));
    const message = await rejection(append(writer, event('s-conflict', 'k', 'tampered')));
    expect(message).toMatch(/^conflict: .*'k'/);
    expect(events(writer.conn, 's-conflict')).toEqual([{ seq: 1n, key: 'k' }]);
    const stored = [...writer.conn.db.syncEvent.iter()].find((e) => e.streamId === 's-conflict');
    expect(new TextDecoder().decode(stored?.payload)).toBe('original');
  });

  it('rejects an envelope with a malformed hash as invalid', async () => {
    const bad = { ...event('s-invalid', 'k', 'x'), payloadHash: new Uint8Array(3) };
    expect(await rejection(append(writer, bad))).toMatch(/^invalid: payload_hash must be 32 bytes/);
    expect(head(writer.conn, 's-invalid')).toBeUndefined();
  });
});

describe('append_sync_events (batch)', () => {
  it('is atomic: one conflicting event rolls the whole batch back, cursor included', async () => {
    await appendBatch(writer, [event('s-batch', 'k1', 'one')], {
      consumerGroup: 'g',
      topic: 't',
      partition: 0,
      nextOffset: 10n,
    });
    const before = events(writer.conn, 's-batch');
    const message = await rejection(
      appendBatch(
        writer,
        [event('s-batch', 'k2', 'two'), event('s-batch-2', 'x', 'x'), event('s-batch', 'k1', 'DIFFERENT')],
        {
          consumerGroup: 'g',
          topic: 't',
          partition: 0,
          nextOffset: 13n,
        },
      ),
    );
    expect(message).toMatch(/conflict/);
    expect(events(writer.conn, 's-batch')).toEqual(before);
    expect(head(writer.conn, 's-batch-2')).toBeUndefined();
    const cursor = [...writer.conn.db.sourceCursor.iter()].find(
      (c) => c.consumerGroup === 'g' && c.topic === 't',
    );
    expect(cursor?.nextOffset).toBe(10n);
  });

  it('keeps each stream head and its gap counters right across one batch interleaving streams', async () => {
    // The stream row is written once per call: every event of the batch must still see the head
    // the ones before it left, a repeat inside the batch is a duplicate, and a gap is counted.
    const src = (stream: string, key: string, seq: bigint) => event(stream, key, key, seq);
    await appendBatch(writer, [
      src('s-mix-a', 'a1', 1n),
      src('s-mix-b', 'b1', 1n),
      src('s-mix-a', 'a2', 2n),
      src('s-mix-a', 'a1', 1n),
      src('s-mix-a', 'a5', 5n),
      src('s-mix-b', 'b2', 2n),
    ]);
    expect(events(writer.conn, 's-mix-a')).toEqual([
      { seq: 1n, key: 'a1' },
      { seq: 2n, key: 'a2' },
      { seq: 3n, key: 'a5' },
    ]);
    expect(events(writer.conn, 's-mix-b')).toEqual([
      { seq: 1n, key: 'b1' },
      { seq: 2n, key: 'b2' },
    ]);
    const a = writer.conn.db.syncStream.stream_id.find('s-mix-a');
    expect(a).toMatchObject({ headSeq: 3n, lastSourceSeq: 5n, sourceGapCount: 1n, sourceGapMissing: 2n });
    expect(head(writer.conn, 's-mix-b')).toBe(2n);
    // The next call starts from the heads the batch left.
    await append(writer, src('s-mix-a', 'a3', 3n));
    expect(writer.conn.db.syncStream.stream_id.find('s-mix-a')).toMatchObject({
      headSeq: 4n,
      sourceGapMissing: 1n,
    });
  });

  it('advances the Kafka cursor in the same transaction, never backwards', async () => {
    const at = (n: bigint) => ({ consumerGroup: 'g2', topic: 'orders', partition: 3, nextOffset: n });
    await appendBatch(writer, [event('s-cursor', 'a', 'a')], at(5n));
    await appendBatch(writer, [event('s-cursor', 'b', 'b')], at(7n));
    await appendBatch(writer, [event('s-cursor', 'a', 'a')], at(5n)); // a redelivered older batch
    const cursor = [...writer.conn.db.sourceCursor.iter()].find((c) => c.consumerGroup === 'g2');
    expect(cursor?.nextOffset).toBe(7n);
    expect(events(writer.conn, 's-cursor').map((e) => e.seq)).toEqual([1n, 2n]);
  });

  it('refuses authority-seq regressions with a typed error and records gaps', async () => {
    await append(writer, event('s-source', 'a', 'a', 10n));
    expect(await rejection(append(writer, event('s-source', 'b', 'b', 9n)))).toMatch(
      /^source_regression: stream 's-source' already holds authority seq 10 .* offers 9/,
    );
    await append(writer, event('s-source', 'c', 'c', 14n)); // gap: 11..13 missing
    expect(events(writer.conn, 's-source').map((e) => e.key)).toEqual(['a', 'c']);
    const s = writer.conn.db.syncStream.stream_id.find('s-source');
    expect([s?.lastSourceSeq, s?.sourceGapCount, s?.sourceGapMissing, s?.lastGapFrom, s?.lastGapTo]).toEqual([
      14n,
      1n,
      3n,
      11n,
      13n,
    ]);
  });

  it('keeps seqs gapless under concurrent appends to many streams from several connections', async () => {
    const extra = await connect(devhost, devhost.ownerToken);
    const streams = ['c0', 'c1', 'c2', 'c3', 'c4'];
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      const who = i % 2 === 0 ? writer : extra;
      calls.push(append(who, event(streams[i % streams.length] as string, `k${i}`, `v${i}`)));
    }
    await Promise.all(calls);
    extra.conn.disconnect();
    for (const s of streams) {
      const seqs = events(writer.conn, s).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: 8 }, (_, i) => BigInt(i + 1)));
    }
  });
});

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
    await expect.poll(seen, { timeout: 5_000 }).toEqual(['secret:1/a']);
    expect(desk.conn.db.syncStream.stream_id.find('secret:1')?.headSeq).toBe(1n);
    await append(writer, event('secret:1', 'c', 'c'));
    await append(writer, event('secret:2', 'd', 'd'));
    await expect.poll(seen, { timeout: 5_000 }).toEqual(['secret:1/a', 'secret:1/c']);
    await writer.conn.reducers.revokeStreamRead({
      reader: Identity.fromString(desk.identityHex),
      streamId: 'secret:1',
    });
    await expect.poll(seen, { timeout: 5_000 }).toEqual([]);
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
    expect(writer.conn.db.sessionPresence.session_id.find('sess-exp')?.state).toBe('live');
    expect(
      await rejection(
        reader.conn.reducers.upsertPresence({
          sessionId: 'sess-exp',
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
        timeout: 8_000,
        interval: 100,
      })
      .toBeNull();
    expect(writer.conn.db.sessionPresence.session_id.find('sess-conn')?.state).toBe('live');
    desk.conn.disconnect();
    await expect
      .poll(() => writer.conn.db.sessionPresence.session_id.find('sess-conn'), {
        timeout: 3_000,
        interval: 50,
      })
      .toBeNull();
  }, 20_000);
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

describe('property: any interleaving of appends with duplicates', () => {
  it('yields per-stream seq 1..n with each key exactly once', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 6 })), {
          minLength: 1,
          maxLength: 25,
        }),
        async (ops) => {
          run++;
          const stream = (i: number) => `prop-${run}-${i}`;
          await Promise.all(ops.map(([s, k]) => append(writer, event(stream(s), `k${k}`, `body-${k}`))));
          for (let s = 0; s < 3; s++) {
            const keys = new Set(ops.filter(([x]) => x === s).map(([, k]) => `k${k}`));
            const got = events(writer.conn, stream(s));
            expect(got.map((e) => e.seq)).toEqual(Array.from({ length: keys.size }, (_, i) => BigInt(i + 1)));
            expect(new Set(got.map((e) => e.key))).toEqual(keys);
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 60_000);
});
