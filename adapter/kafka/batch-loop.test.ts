/**
 * The batch loop alone, through its ports: an in-memory ReducerSink that keeps events and cursors
 * the way the sync module does (one transaction per call: all of it or nothing), and an in-memory
 * dead-letter topic. No broker, no SpacetimeDB: what is asserted is the loop's own rules.
 */
import { describe, expect, it } from 'vitest';
import { SyncError, unavailable } from '../../shared/errors/sync-error.js';
import { createAdapterMetrics } from '../metrics.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetricsRegistry } from '../telemetry/metrics.js';
import { BatchLoop, type BatchPayload } from './batch-loop.js';
import { InFlightGate } from './in-flight-gate.js';
import { oneShard } from './shard-sinks.js';
import { batch, GROUP, good, MemoryDeadLetters, MemorySink, TOPIC } from './testing/batch-fixture.js';

function setup(
  o: { maxBatch?: number; maxBatchBytes?: number; stopping?: () => boolean; callsInFlight?: number } = {},
) {
  const sink = new MemorySink();
  const deadLetters = new MemoryDeadLetters();
  const metrics = createAdapterMetrics(createMetricsRegistry({ defaultMetrics: false }));
  let progressed = 0;
  const loop = new BatchLoop({
    shards: oneShard(sink),
    deadLetters,
    groupId: GROUP,
    maxBatch: o.maxBatch ?? 200,
    ...(o.callsInFlight !== undefined ? { callsInFlight: o.callsInFlight } : {}),
    ...(o.maxBatchBytes !== undefined ? { maxBatchBytes: o.maxBatchBytes } : {}),
    metrics,
    logger: createLogger({ level: 'silent' }),
    stopping: o.stopping ?? (() => false),
    progressed: () => progressed++,
    sleep: async () => {},
  });
  const gate = new InFlightGate(1_000, 500, () => {});
  const commits: bigint[] = [];
  const run = (payload: BatchPayload) =>
    loop.run(payload, gate, async (_t, _p, next) => {
      commits.push(next);
    });
  return { sink, deadLetters, run, gate, commits, progressed: () => progressed };
}

describe('batch loop', () => {
  it('appends a batch in order with the next offset as cursor and commits it to Kafka after the write', async () => {
    const t = setup({ maxBatch: 2 });
    await t.run(batch([good('a', 1), good('b', 2), good('c', 3)]).payload);
    expect(t.sink.events).toEqual(['a', 'b', 'c']);
    expect(t.sink.cursor(GROUP, TOPIC, 0)).toBe(3n);
    // Two append calls of at most maxBatch; Kafka's offset is committed once the batch is written.
    expect(t.sink.calls).toBe(2);
    expect(t.commits).toEqual([3n]);
    expect(t.progressed()).toBe(1);
    expect(t.gate.inFlight).toBe(0);
  });

  it('splits a group at the byte bound: the first call’s cursor stops at the message that did not fit', async () => {
    const t = setup({ maxBatch: 100, maxBatchBytes: 3 * 1024 });
    const big = (key: string, seq: number) => good(key, seq, 'acct:1', 'x'.repeat(1024));
    await t.run(batch([big('a', 1), big('b', 2), big('c', 3), big('d', 4)]).payload);
    // About 1.2 KiB per envelope: two fit under 3 KiB, the third starts the next call.
    expect(t.sink.committed).toEqual([
      { keys: ['a', 'b'], next: 2n },
      { keys: ['c', 'd'], next: 4n },
    ]);
    expect(t.sink.events).toEqual(['a', 'b', 'c', 'd']);
    expect(t.commits).toEqual([4n]);
  });

  it('sends a message larger than the byte bound alone, and the rest around it in order', async () => {
    const t = setup({ maxBatch: 100, maxBatchBytes: 1024 });
    await t.run(
      batch([good('a', 1), good('b', 2), good('huge', 3, 'acct:1', 'x'.repeat(4096)), good('c', 4)]).payload,
    );
    expect(t.sink.committed).toEqual([
      { keys: ['a', 'b'], next: 2n },
      { keys: ['huge'], next: 3n },
      { keys: ['c'], next: 4n },
    ]);
  });

  it('skips what the sink’s cursor already covers (effectively once after a crash)', async () => {
    const t = setup();
    t.sink.cursors.set(`${TOPIC}/0`, 12n);
    const { payload, resolved } = batch([good('a', 1), good('b', 2), good('c', 3)], 10);
    await t.run(payload);
    expect(t.sink.events).toEqual(['c']);
    expect(resolved).toEqual(['12']);
    expect(t.commits).toEqual([13n]);
  });

  it('dead-letters an undecodable message with reason invalid, moves the cursor past it and goes on', async () => {
    const t = setup();
    await t.run(batch([good('a', 1), Buffer.from('not an envelope'), good('c', 2)]).payload);
    expect(t.sink.events).toEqual(['a', 'c']);
    expect(t.deadLetters.records).toEqual([{ offset: '1', reason: 'invalid' }]);
    expect(t.sink.cursor(GROUP, TOPIC, 0)).toBe(3n);
    expect(t.commits).toEqual([3n]);
  });

  it('isolates the one refused event of a group: the rest are appended in order, it is dead-lettered', async () => {
    const t = setup();
    t.sink.refuse = (e) =>
      e.idempotencyKey === 'b' ? new SyncError('conflict', 'b was used with another payload') : undefined;
    await t.run(batch([good('a', 1), good('b', 2), good('c', 3)]).payload);
    expect(t.sink.events).toEqual(['a', 'c']);
    expect(t.deadLetters.records).toEqual([{ offset: '1', reason: 'conflict' }]);
    expect(t.sink.cursor(GROUP, TOPIC, 0)).toBe(3n);
  });

  it('retries an outage until the sink takes the group, skipping and dead-lettering nothing', async () => {
    const t = setup();
    let outages = 3;
    t.sink.refuse = () => (outages-- > 0 ? unavailable('spacetimedb', 'not connected') : undefined);
    await t.run(batch([good('a', 1), good('b', 2)]).payload);
    expect(t.sink.calls).toBe(4);
    expect(t.sink.events).toEqual(['a', 'b']);
    expect(t.deadLetters.records).toEqual([]);
  });

  it('leaves the rest of the batch uncommitted when the source stops during an outage', async () => {
    let stopping = false;
    const t = setup({ stopping: () => stopping });
    t.sink.refuse = () => {
      stopping = true; // the stop lands while the first group is failing
      return unavailable('spacetimedb', 'not connected');
    };
    await expect(t.run(batch([good('a', 1), good('b', 2)]).payload)).rejects.toThrow(/not connected/);
    expect(t.sink.events).toEqual([]);
    expect(t.commits).toEqual([]);
    expect(t.deadLetters.records).toEqual([]);
    // The batch left the backpressure gate all the same.
    expect(t.gate.inFlight).toBe(0);
  });

  describe('with several calls of a partition in flight', () => {
    const keys = 'abcdefgh'.split('');
    const values = () => keys.map((k, i) => good(k, i + 1));

    it('keeps them in flight at once, names each predecessor’s cursor and commits once all answered', async () => {
      const t = setup({ maxBatch: 2, callsInFlight: 3 });
      t.sink.answerLater = true;
      await t.run(batch(values()).payload);
      expect(t.sink.peakOutstanding).toBe(3);
      expect(t.sink.events).toEqual(keys);
      expect(t.sink.committed.map((c) => c.next)).toEqual([2n, 4n, 6n, 8n]);
      expect(t.sink.outOfOrder).toBe(0);
      expect(t.commits).toEqual([8n]);
    });

    it('an earlier call refused while later ones are in flight: the later ones never commit before it, nothing is lost or repeated', async () => {
      const t = setup({ maxBatch: 2, callsInFlight: 4 });
      t.sink.answerLater = true;
      t.sink.refuse = (e) =>
        e.idempotencyKey === 'c' ? new SyncError('conflict', 'c was used with another payload') : undefined;
      await t.run(batch(values()).payload);
      // [c d] was refused whole; [e f] and [g h], already sent, were refused by the cursor check.
      expect(t.sink.outOfOrder).toBe(2);
      expect(t.sink.events).toEqual(['a', 'b', 'd', 'e', 'f', 'g', 'h']);
      expect(t.deadLetters.records).toEqual([{ offset: '2', reason: 'conflict' }]);
      // Every cursor the sink took moved forward: no call applied past one that had not.
      const cursors = t.sink.committed.map((c) => c.next ?? 0n);
      expect(cursors).toEqual([...cursors].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
      expect(t.sink.cursor(GROUP, TOPIC, 0)).toBe(8n);
      expect(t.commits).toEqual([8n]);
    });

    it('an outage under a call in flight: it and the ones after it are retried in order', async () => {
      const t = setup({ maxBatch: 2, callsInFlight: 4 });
      t.sink.answerLater = true;
      let outages = 2;
      t.sink.refuse = (e) =>
        e.idempotencyKey === 'c' && outages-- > 0 ? unavailable('spacetimedb', 'connection lost') : undefined;
      await t.run(batch(values()).payload);
      expect(t.sink.events).toEqual(keys);
      expect(t.deadLetters.records).toEqual([]);
      expect(t.commits).toEqual([8n]);
    });

    it('drops the window when the batch goes stale: nothing more is sent and nothing committed', async () => {
      const t = setup({ maxBatch: 1, callsInFlight: 2 });
      t.sink.answerLater = true;
      let stale = false;
      t.sink.refuse = (e) => {
        if (e.idempotencyKey === 'b') stale = true; // the partition is revoked while b is on its way
        return undefined;
      };
      const { payload, resolved } = batch(values());
      await t.run({ ...payload, isStale: () => stale });
      expect(t.sink.events).toEqual(['a', 'b']);
      expect(resolved).toEqual([]);
      expect(t.commits).toEqual([]);
      expect(t.gate.inFlight).toBe(0);
    });
  });
});
