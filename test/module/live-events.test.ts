/**
 * Live delivery through the `sync_event_live` event table: every appended event reaches the
 * subscribers allowed to read its stream, once, and is stored neither by the database nor by the
 * SDK's cache; a client not granted the stream gets nothing.
 */
import { describe, expect, it } from 'vitest';
import { SYNC_DB, subscribe } from '../support/devhost-harness.js';
import { useLiveEventHosts } from '../support/live-event-readers.js';
import { eventInput } from '../support/sync-events.js';

const hosts = useLiveEventHosts();

describe('sync_event_live (event table)', () => {
  it('delivers each appended event to granted subscribers only, and nobody stores it', async () => {
    const { devhost, owner, reader, grant } = await hosts.start();
    const granted = await reader();
    const other = await reader();
    await grant(granted, 'orders');
    for (const r of [granted, other])
      await subscribe(r.c.conn, ["SELECT * FROM sync_event_live WHERE stream_id = 'orders'"]);
    const all = await reader();
    await subscribe(all.c.conn, ['SELECT * FROM sync_event_live']);

    await owner.conn.reducers.appendSyncEvents({
      events: [eventInput('orders', 'a'), eventInput('orders', 'b'), eventInput('other', 'x')],
      cursor: undefined,
    });
    // A duplicate append is no new event: nothing goes out live for it.
    await owner.conn.reducers.appendSyncEvent({ event: eventInput('orders', 'a') });
    await owner.conn.reducers.appendSyncEvent({ event: eventInput('orders', 'c') });

    await expect.poll(() => granted.seen).toEqual(['orders#1', 'orders#2', 'orders#3']);
    // Row-level security applies to the event table as to sync_event: not granted, not delivered,
    // whatever the query asked for.
    expect(other.seen).toEqual([]);
    expect(all.seen).toEqual([]);
    // Rows of an event table are never cached by the SDK nor kept by the database.
    expect(Number(granted.c.conn.db.syncEventLive.count())).toBe(0);
    expect(devhost.databases.get(SYNC_DB)?.rows('sync_event_live')).toEqual([]);
    expect(devhost.databases.get(SYNC_DB)?.rows('sync_event')).toHaveLength(4);
  });

  it('sends nothing for a call that rolled back', async () => {
    const { owner, reader, grant } = await hosts.start();
    const granted = await reader();
    await grant(granted, 'orders');
    await subscribe(granted.c.conn, ["SELECT * FROM sync_event_live WHERE stream_id = 'orders'"]);
    const bad = { ...eventInput('orders', 'b'), payloadHash: new Uint8Array(3) };
    await expect(
      owner.conn.reducers.appendSyncEvents({ events: [eventInput('orders', 'a'), bad], cursor: undefined }),
    ).rejects.toThrow();
    await owner.conn.reducers.appendSyncEvent({ event: eventInput('orders', 'c') });
    // The failed batch's first event never went out; the next call's event is seq 1.
    await expect.poll(() => granted.seen).toEqual(['orders#1']);
  });
});
