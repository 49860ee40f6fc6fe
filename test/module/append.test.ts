/**
 * The sync module's append path as its writers meet it: seqs per stream, idempotency, conflicts,
 * atomic batches with the Kafka cursor, authority-seq order, and a property over interleavings.
 * Streams, clients and retention are in `streams-and-clients.test.ts`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connect, rejection } from '../support/devhost-harness.js';
import {
  append,
  appendBatch,
  devhost,
  event,
  events,
  head,
  useSyncModule,
  writer,
} from './testing/sync-module-fixture.js';

useSyncModule();

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

  it('applies a pipelined call only after its predecessor: a failed one is never overtaken', async () => {
    // Sent together on one connection, as the adapter's partition window does: the first is
    // refused (conflict), the second names the cursor the first would have left.
    const at = (n: bigint, from?: bigint) => ({
      consumerGroup: 'g3',
      topic: 'orders',
      partition: 1,
      nextOffset: n,
      ...(from !== undefined ? { fromOffset: from } : {}),
    });
    await appendBatch(writer, [event('s-pipe', 'k0', 'zero')], at(1n));
    const first = appendBatch(
      writer,
      [event('s-pipe', 'k1', 'one'), event('s-pipe', 'k0', 'CHANGED')],
      at(3n, 1n),
    );
    const second = appendBatch(writer, [event('s-pipe', 'k3', 'three')], at(4n, 3n));
    expect(await rejection(first)).toMatch(/^conflict: /);
    expect(await rejection(second)).toMatch(
      /^out_of_order_sequence: Kafka cursor g3\/orders\/1 is at 1; this call starts at 3/,
    );
    const cursor = () =>
      [...writer.conn.db.sourceCursor.iter()].find((c) => c.consumerGroup === 'g3')?.nextOffset;
    expect(cursor()).toBe(1n);
    expect(events(writer.conn, 's-pipe').map((e) => e.key)).toEqual(['k0']);
    // Redone in order (the bad event left out), the later call follows it.
    await appendBatch(writer, [event('s-pipe', 'k1', 'one')], at(3n, 1n));
    await appendBatch(writer, [event('s-pipe', 'k3', 'three')], at(4n, 3n));
    // The same call again after a lost answer: its events are duplicates, the cursor stays.
    await appendBatch(writer, [event('s-pipe', 'k3', 'three')], at(4n, 3n));
    expect(events(writer.conn, 's-pipe').map((e) => e.key)).toEqual(['k0', 'k1', 'k3']);
    expect(cursor()).toBe(4n);
  });

  it('refuses a pipelined call on a partition with no cursor yet: its predecessor never committed', async () => {
    const message = await rejection(
      appendBatch(writer, [event('s-pipe-new', 'a', 'a')], {
        consumerGroup: 'g4',
        topic: 'orders',
        partition: 0,
        nextOffset: 9n,
        fromOffset: 5n,
      }),
    );
    expect(message).toMatch(/^out_of_order_sequence: Kafka cursor g4\/orders\/0 is at no offset yet/);
    expect(head(writer.conn, 's-pipe-new')).toBeUndefined();
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
