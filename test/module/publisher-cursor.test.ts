/**
 * Per-publisher sequence state on the real module (devhost, SDK, bindings): append_publisher_events
 * applies a pipelining publisher's calls only in its order, answers a repeat of an applied seq as the
 * duplicates it is, refuses one ahead of its predecessor with the typed, retryable
 * `out_of_order_sequence` — also when the predecessor failed while the later call was already on its
 * way — and keeps the cursor across a host restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../adapter/envelope/to-event.js';
import { reducerError } from '../../adapter/spacetime/reducer-error.js';
import { isSyncError, type SyncError } from '../../shared/errors/sync-error.js';
import { type Connected, connect, startSyncDevhost, subscribe } from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';
import { seqKeys, useWriterWithReceipts } from './testing/sync-module-fixture.js';

const sync = useWriterWithReceipts(['sync_event', 'publisher_cursor']);
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const publish = (c: Connected, publisherId: string, seq: bigint, events: EventInput[]) =>
  c.conn.reducers.appendPublisherEvents({ events, publisher: { publisherId, publisherSeq: seq } });
const failure = async (call: Promise<unknown>): Promise<SyncError | undefined> => {
  try {
    await call;
    return undefined;
  } catch (e) {
    return reducerError(e);
  }
};
const stored = (c: Connected, stream: string) => seqKeys(c.conn, stream);
const cursorOf = (c: Connected, id: string) => c.conn.db.publisherCursor.publisher_id.find(id)?.lastSeq;

describe('append_publisher_events', () => {
  it('applies a publisher’s calls in its order and keeps its cursor at the last applied seq', async () => {
    await publish(sync.writer, 'pub-order', 1n, [eventInput('po:1', 'a')]);
    await publish(sync.writer, 'pub-order', 2n, [eventInput('po:1', 'b'), eventInput('po:1', 'c')]);
    expect(stored(sync.writer, 'po:1')).toEqual(['1:a', '2:b', '3:c']);
    expect(cursorOf(sync.writer, 'pub-order')).toBe(2n);
  });

  it('answers a repeat of an applied seq with its original receipts as duplicates, writing nothing', async () => {
    await publish(sync.writer, 'pub-retry', 1n, [eventInput('pr:1', 'a')]);
    await publish(sync.writer, 'pub-retry', 2n, [eventInput('pr:1', 'b')]);
    sync.receipts.length = 0;
    await publish(sync.writer, 'pub-retry', 1n, [eventInput('pr:1', 'a')]);
    expect(sync.receipts).toEqual([{ stream: 'pr:1', key: 'a', seq: 1n, status: 'duplicate' }]);
    expect(stored(sync.writer, 'pr:1')).toEqual(['1:a', '2:b']);
    expect(cursorOf(sync.writer, 'pub-retry')).toBe(2n);
    // Something new under an applied seq was never part of that call: refused, not written.
    const err = await failure(publish(sync.writer, 'pub-retry', 2n, [eventInput('pr:1', 'new')]));
    expect(err?.reason).toBe('invalid');
    expect(err?.message).toMatch(/seq 2 was applied already/);
    expect(stored(sync.writer, 'pr:1')).toEqual(['1:a', '2:b']);
  });

  it('refuses a call ahead of its predecessor with the typed, retryable out_of_order_sequence; nothing applied', async () => {
    await publish(sync.writer, 'pub-ahead', 1n, [eventInput('pa:1', 'a')]);
    const err = await failure(publish(sync.writer, 'pub-ahead', 3n, [eventInput('pa:1', 'c')]));
    expect(isSyncError(err, 'out_of_order_sequence')).toBe(true);
    expect(err?.retryable).toBe(true);
    expect(isSyncError(err, 'out_of_order_sequence') && err.detail).toMatchObject({
      publisherId: 'pub-ahead',
      expectedSeq: 2n,
      offeredSeq: 3n,
    });
    expect(stored(sync.writer, 'pa:1')).toEqual(['1:a']);
    // A publisher never seen starts at seq 1.
    const fresh = await failure(publish(sync.writer, 'pub-new', 2n, [eventInput('pa:2', 'x')]));
    expect(isSyncError(fresh, 'out_of_order_sequence') && fresh.detail?.expectedSeq).toBe(1n);
  });

  it('a call in flight behind one that fails does not commit first; resent in order, both apply in order', async () => {
    await publish(sync.writer, 'pub-gap', 1n, [eventInput('pg:1', 'a')]);
    // Seq 2 reuses key 'a' with another payload (a conflict, refused); seq 3 is sent before 2 answers.
    const second = failure(publish(sync.writer, 'pub-gap', 2n, [eventInput('pg:1', 'a', { body: 'other' })]));
    const third = failure(publish(sync.writer, 'pub-gap', 3n, [eventInput('pg:1', 'c')]));
    const [e2, e3] = await Promise.all([second, third]);
    expect(e2?.reason).toBe('conflict');
    expect(isSyncError(e3, 'out_of_order_sequence') && e3.retryable).toBe(true);
    expect(isSyncError(e3, 'out_of_order_sequence') && e3.detail?.expectedSeq).toBe(2n);
    expect(stored(sync.writer, 'pg:1')).toEqual(['1:a']);
    // The publisher corrects seq 2 and sends it, then 3 unchanged.
    await publish(sync.writer, 'pub-gap', 2n, [eventInput('pg:1', 'b')]);
    await publish(sync.writer, 'pub-gap', 3n, [eventInput('pg:1', 'c')]);
    expect(stored(sync.writer, 'pg:1')).toEqual(['1:a', '2:b', '3:c']);
  });

  it('refuses a malformed publisher as invalid', async () => {
    const err = await failure(publish(sync.writer, '', 1n, [eventInput('pm:1', 'a')]));
    expect(err?.reason).toBe('invalid');
    const zero = await failure(publish(sync.writer, 'pub-zero', 0n, [eventInput('pm:1', 'a')]));
    expect(zero?.reason).toBe('invalid');
    expect(stored(sync.writer, 'pm:1')).toEqual([]);
  });
});

describe('the publisher cursor across a host restart', () => {
  it('a restarted host continues the publisher: the next seq applies, a repeat is a duplicate, one ahead is refused', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'publisher-cursor-'));
    dirs.push(dataDir);
    let host = await startSyncDevhost(dataDir);
    let c = await connect(host, host.ownerToken);
    await publish(c, 'pub-durable', 1n, [eventInput('pd:1', 'a')]);
    await publish(c, 'pub-durable', 2n, [eventInput('pd:1', 'b')]);
    c.conn.disconnect();
    await host.stop();

    host = await startSyncDevhost(dataDir);
    try {
      c = await connect(host, host.ownerToken);
      await subscribe(c.conn, ['SELECT * FROM sync_event', 'SELECT * FROM publisher_cursor']);
      expect(cursorOf(c, 'pub-durable')).toBe(2n);
      const ahead = await failure(publish(c, 'pub-durable', 4n, [eventInput('pd:1', 'd')]));
      expect(isSyncError(ahead, 'out_of_order_sequence') && ahead.detail?.expectedSeq).toBe(3n);
      const again = await failure(publish(c, 'pub-durable', 2n, [eventInput('pd:1', 'b')]));
      expect(again).toBeUndefined();
      await publish(c, 'pub-durable', 3n, [eventInput('pd:1', 'c')]);
      expect(stored(c, 'pd:1')).toEqual(['1:a', '2:b', '3:c']);
      c.conn.disconnect();
    } finally {
      await host.stop();
    }
  }, 120_000);
});
