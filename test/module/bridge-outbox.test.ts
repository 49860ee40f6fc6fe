/**
 * The bridge outbox as the worker and operators meet it: the real module on devhost, through the
 * SDK. The owner enqueues and administers; a bridge worker is an ordinary identity granted a target,
 * and row-level security shows it that target's outbox and nothing else.
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
let worker: Connected;
let stranger: Connected;

const TABLES = ['SELECT * FROM bridge_outbox', 'SELECT * FROM bridge_delivery'];

beforeAll(async () => {
  devhost = await startSyncDevhost();
  owner = await connect(devhost, devhost.ownerToken);
  worker = await connect(devhost);
  stranger = await connect(devhost);
  await owner.conn.reducers.grantBridgeWorker({
    identity: Identity.fromString(worker.identityHex),
    target: 'nostr',
  });
  await subscribe(owner.conn, [...TABLES, 'SELECT * FROM sync_stream']);
  await subscribe(worker.conn, TABLES);
  await subscribe(stranger.conn, TABLES);
}, 60_000);

afterAll(async () => {
  for (const c of [owner, worker, stranger]) c?.conn.disconnect();
  await devhost?.stop();
});

const enqueue = (key: string, opts: { target?: string; body?: string; maxAttempts?: number } = {}) =>
  owner.conn.reducers.enqueueBridgeEvent({
    bridgeKey: key,
    streamId: 's-bridge',
    seq: 1n,
    target: opts.target ?? 'nostr',
    kind: 1,
    payload: new TextEncoder().encode(opts.body ?? 'hello'),
    maxAttempts: opts.maxAttempts ?? 2,
  });

const report = (key: string, relay: string, accepted: boolean, message = '') => ({
  bridgeKey: key,
  relay,
  accepted,
  message,
  eventId: 'ab'.repeat(32),
});

const record = (c: Connected, reports: ReturnType<typeof report>[], relays = ['a', 'b'], target = 'nostr') =>
  c.conn.reducers.recordBridgeDeliveries({ target, relays, reports });

// Read by scan: the bindings (like the official ones) type only primary-key indexes as unique, while
// the SDK builds `bridge_key` as a unique index at run time, so neither `find` nor `filter` fits both.
const row = (c: Connected, key: string) =>
  [...c.conn.db.bridgeOutbox.iter()].find((r) => r.bridgeKey === key);
const deliveries = (c: Connected, key: string) => {
  const id = row(owner, key)?.outboxId;
  return [...c.conn.db.bridgeDelivery.iter()]
    .filter((d) => d.outboxId === id)
    .map((d) => ({ relay: d.relay, status: d.status, attempts: d.attempts, last_error: d.lastError }))
    .sort((x, y) => x.relay.localeCompare(y.relay));
};

describe('bridge outbox', () => {
  it('enqueues idempotently by key and refuses a different event under the same key', async () => {
    await enqueue('k-idem');
    await enqueue('k-idem');
    expect([...owner.conn.db.bridgeOutbox.iter()].filter((r) => r.bridgeKey === 'k-idem')).toHaveLength(1);
    expect(await rejection(enqueue('k-idem', { body: 'other' }))).toMatch(/conflict/);
    expect(await rejection(enqueue('k-bad', { maxAttempts: 0 }))).toMatch(/invalid/);
    expect(await rejection(worker.conn.reducers.enqueueBridgeEvent({ ...baseArgs('k-w') }))).toMatch(
      /unauthorized/,
    );
  });

  it('shows a worker the rows of its target only, and others nothing', async () => {
    await enqueue('k-vis-nostr');
    await enqueue('k-vis-other', { target: 'other-mirror' });
    await expect.poll(() => row(worker, 'k-vis-nostr')?.status).toBe('pending');
    expect(row(worker, 'k-vis-other')).toBeUndefined();
    expect(row(owner, 'k-vis-other')?.status).toBe('pending');
    expect([...stranger.conn.db.bridgeOutbox.iter()]).toEqual([]);
    expect(await rejection(record(stranger, [report('k-vis-nostr', 'a', true)]))).toMatch(
      /not a bridge worker/,
    );
    expect(
      await rejection(record(worker, [report('k-vis-other', 'a', true)], ['a'], 'other-mirror')),
    ).toMatch(/not a bridge worker/);
    expect(await rejection(worker.conn.reducers.retryBridgeEvent({ bridgeKey: 'k-vis-nostr' }))).toMatch(
      /unauthorized/,
    );
  });

  it('is sent only when every configured relay has it; a duplicate OK changes nothing', async () => {
    await enqueue('k-sent');
    await record(worker, [report('k-sent', 'a', true)]);
    expect(row(owner, 'k-sent')?.status).toBe('pending');
    await record(worker, [report('k-sent', 'b', true)]);
    expect(row(owner, 'k-sent')?.status).toBe('sent');
    await record(worker, [report('k-sent', 'b', true, 'duplicate: already have this event')]);
    expect(deliveries(owner, 'k-sent')).toEqual([
      { relay: 'a', status: 'sent', attempts: 0, last_error: undefined },
      { relay: 'b', status: 'sent', attempts: 0, last_error: undefined },
    ]);
    await expect.poll(() => deliveries(worker, 'k-sent').length).toBe(2);
  });

  it('fails a refused delivery with the reason after max attempts, and an operator retry reopens it', async () => {
    await enqueue('k-refused');
    await record(worker, [
      report('k-refused', 'a', true),
      report('k-refused', 'b', false, 'blocked: not yours'),
    ]);
    expect(row(owner, 'k-refused')).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'b: blocked: not yours',
    });
    // Sync goes on whatever the mirror does.
    await owner.conn.reducers.appendSyncEvent({ event: eventInput('s-bridge', 'flows', { body: 'x' }) });
    await record(worker, [report('k-refused', 'b', false, 'blocked: still not yours')]);
    expect(row(owner, 'k-refused')).toMatchObject({ status: 'failed', attempts: 2 });
    expect(deliveries(owner, 'k-refused')).toEqual([
      { relay: 'a', status: 'sent', attempts: 0, last_error: undefined },
      { relay: 'b', status: 'failed', attempts: 2, last_error: 'blocked: still not yours' },
    ]);
    // A failed delivery takes no more answers until an operator retries it.
    await record(worker, [report('k-refused', 'b', true)]);
    expect(row(owner, 'k-refused')?.status).toBe('failed');
    await owner.conn.reducers.retryBridgeEvent({ bridgeKey: 'k-refused' });
    expect(row(owner, 'k-refused')?.status).toBe('pending');
    expect(deliveries(owner, 'k-refused')[1]).toMatchObject({ status: 'pending', attempts: 0 });
    await record(worker, [report('k-refused', 'b', true)]);
    expect(row(owner, 'k-refused')?.status).toBe('sent');
    expect(owner.conn.db.syncStream.stream_id.find('s-bridge')?.headSeq).toBe(1n);
  });

  it('prunes sent rows older than the configured retention and keeps the others', async () => {
    await enqueue('k-prune-sent');
    await enqueue('k-prune-pending');
    await record(worker, [report('k-prune-sent', 'a', true), report('k-prune-sent', 'b', true)]);
    expect(row(owner, 'k-prune-sent')?.status).toBe('sent');
    await owner.conn.reducers.configureBridge({ sentRetentionSeconds: 0n });
    // The maintenance timer (every 5 s) prunes.
    await expect.poll(() => row(owner, 'k-prune-sent'), { timeout: 15_000, interval: 100 }).toBeUndefined();
    expect(deliveries(owner, 'k-prune-sent')).toEqual([]);
    expect(row(owner, 'k-prune-pending')?.status).toBe('pending');
    // A late report about a pruned row is harmless.
    await record(worker, [report('k-prune-sent', 'a', true)]);
    await owner.conn.reducers.configureBridge({ sentRetentionSeconds: 7n * 24n * 3600n });
  }, 30_000);
});

function baseArgs(key: string) {
  return {
    bridgeKey: key,
    streamId: 's-bridge',
    seq: 1n,
    target: 'nostr',
    kind: 1,
    payload: new Uint8Array([1]),
    maxAttempts: 1,
  };
}
