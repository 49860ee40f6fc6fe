/**
 * A commit's update is encoded once for every subscriber that sees the same rows
 * (devhost/server/broadcast-memo.ts). What a user would notice if that sharing were wrong: a client
 * getting another client's rows. Subscribers with the same query but different grants, and with
 * different queries, each get exactly their own events from one transaction, in every protocol and
 * compression a client can ask for.
 */
import { describe, expect, it } from 'vitest';
import { subscribe } from '../support/devhost-harness.js';
import { useLiveEventHosts } from '../support/live-event-readers.js';
import { eventInput } from '../support/sync-events.js';

const hosts = useLiveEventHosts();

describe('one encoded update shared by the subscribers that see the same rows', () => {
  it('gives each subscriber of one commit exactly the events its grants and query allow', async () => {
    const { owner, reader, grant } = await hosts.start();

    // Same query, different grants: the row-level filter differs per client.
    const ordersA = await reader();
    const ordersB = await reader();
    const billing = await reader();
    const both = await reader();
    // Granted both, but asking for one stream only: the query's filter differs.
    const onlyBilling = await reader();
    await grant(ordersA, 'orders');
    await grant(ordersB, 'orders');
    await grant(billing, 'billing');
    for (const r of [both, onlyBilling]) {
      await grant(r, 'orders');
      await grant(r, 'billing');
    }
    for (const r of [ordersA, ordersB, billing, both])
      await subscribe(r.c.conn, ['SELECT * FROM sync_event_live']);
    await subscribe(onlyBilling.c.conn, ["SELECT * FROM sync_event_live WHERE stream_id = 'billing'"]);

    // One transaction with rows for both streams, then one with rows for one stream only.
    await owner.conn.reducers.appendSyncEvents({
      events: [eventInput('orders', 'o1'), eventInput('billing', 'b1'), eventInput('orders', 'o2')],
      cursor: undefined,
    });
    await owner.conn.reducers.appendSyncEvents({
      events: [eventInput('billing', 'b2'), eventInput('billing', 'b3')],
      cursor: undefined,
    });

    const orders = ['orders#1', 'orders#2'];
    const bills = ['billing#1', 'billing#2', 'billing#3'];
    await expect.poll(() => both.seen.length).toBe(5);
    await expect.poll(() => onlyBilling.seen).toEqual(bills);
    await expect.poll(() => billing.seen).toEqual(bills);
    await expect.poll(() => ordersA.seen).toEqual(orders);
    expect(ordersB.seen).toEqual(orders);
    expect([...both.seen].sort()).toEqual([...bills, ...orders].sort());
  });
});
