/** The adapter's SpacetimeDB writer against the sync module on devhost, over real sockets. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TcpProxy } from '../../chaos/net/tcp-proxy.js';
import { isSyncError } from '../../shared/errors/sync-error.js';
import { SYNC_DB, startSyncDevhost } from '../../test/support/devhost-harness.js';
import { eventInput } from '../../test/support/sync-events.js';
import { createLogger } from '../telemetry/logger.js';
import { SpacetimeWriter } from './writer.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A devhost with the sync module and a writer connected to it (closed after the test). */
async function connected(
  callTimeoutMs?: number,
  maxInFlight?: number,
  uri?: (devhostUrl: string) => Promise<string>,
) {
  const devhost = await startSyncDevhost();
  const writer = await SpacetimeWriter.connect({
    uri: uri ? await uri(devhost.url) : devhost.url,
    database: SYNC_DB,
    token: devhost.ownerToken,
    logger: createLogger({ level: 'silent' }),
    ...(callTimeoutMs !== undefined ? { callTimeoutMs } : {}),
    ...(maxInFlight !== undefined ? { maxInFlight } : {}),
  });
  cleanups.push(() => writer.close());
  return { devhost, writer };
}

/**
 * Holds every reducer call at the host until `open()` (then lets them run in arrival order, as the
 * host's one queue does) and counts the calls that arrived.
 */
function holdCalls(devhost: Awaited<ReturnType<typeof startSyncDevhost>>) {
  const db = devhost.databases.get(SYNC_DB);
  if (!db) throw new Error('no database');
  const original = db.callReducer.bind(db);
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const held = { arrived: 0, open };
  db.callReducer = (...args) => {
    held.arrived += 1;
    return gate.then(() => original(...args));
  };
  return held;
}

describe('SpacetimeWriter', () => {
  it('fails a call in flight as soon as the connection drops, instead of waiting out its timeout', async () => {
    const { devhost, writer } = await connected(120_000);
    expect((await writer.appendBatch([eventInput('w:1', 'a')]))[0]?.seq).toBe(1n);

    // A host that takes the call and never answers, then goes away.
    const db = devhost.databases.get(SYNC_DB);
    if (!db) throw new Error('no database');
    let arrived!: () => void;
    const inFlight = new Promise<void>((r) => {
      arrived = r;
    });
    db.callReducer = () => {
      arrived();
      return new Promise(() => {});
    };
    const call = writer.appendBatch([eventInput('w:1', 'b')]);
    const outcome = call.then(
      () => undefined,
      (e: unknown) => e,
    );
    await inFlight; // the host holds the call
    await devhost.stop();
    const error = await outcome;
    expect(isSyncError(error, 'unavailable')).toBe(true);
    expect(isSyncError(error, 'unavailable') && error.detail?.dependency).toBe('spacetimedb');
    // The drop, not the 120 s call timeout ('append timed out'), ended it.
    expect((error as Error).message).toMatch(/connection lost during the call/);
  }, 30_000);

  it('reconnects with backoff while SpacetimeDB is away, and close() then ends it for good', async () => {
    const { devhost, writer } = await connected();
    expect(writer.connection.state).toBe('connected');
    await devhost.stop();
    await expect.poll(() => writer.connection.state, { timeout: 10_000 }).toBe('reconnecting');
    expect(writer.connection.lastError).toBeDefined();
    // Appends are refused at once while reconnecting, as a retryable outage.
    const refused = await writer.appendBatch([eventInput('w:2', 'a')]).catch((e: unknown) => e);
    expect(isSyncError(refused, 'unavailable')).toBe(true);
    const waiting = writer.waitConnected(60_000).catch((e: unknown) => e);
    await writer.close();
    expect(writer.phase).toBe('closed');
    expect(writer.connection.state).toBe('closed');
    // Whoever waited for the connection hears that it will not come.
    expect(String(await waiting)).toMatch(/closed/);
    await expect(writer.waitConnected(60_000)).rejects.toThrow(/closed/);
  }, 30_000);

  it('keeps several appends in flight on one connection and commits them in the order they were made', async () => {
    const { devhost, writer } = await connected(undefined, 4);
    const held = holdCalls(devhost);
    // Authority seqs 1..12 to one stream: a reordered call would be refused as a source regression.
    const calls = Array.from({ length: 12 }, (_, i) =>
      writer.appendBatch([eventInput('w:pipe', `k${i + 1}`, { sourceSeq: BigInt(i + 1) })]),
    );
    // With one call at a time the host would see only the first until it answered.
    await vi.waitFor(() => expect(held.arrived).toBe(4), { timeout: 20_000 });
    expect(writer.inFlight).toBe(4);
    held.open();
    const receipts = await Promise.all(calls);
    expect(receipts.map((r) => r[0]?.seq)).toEqual(Array.from({ length: 12 }, (_, i) => BigInt(i + 1)));
    expect(receipts.map((r) => r[0]?.key)).toEqual(Array.from({ length: 12 }, (_, i) => `k${i + 1}`));
    expect(receipts.every((r) => r[0]?.status === 'appended')).toBe(true);
    expect(writer.stream('w:pipe')?.head).toBe(12n);
  }, 30_000);

  it('fails every call in flight as retryable when the connection drops, and their retries apply nothing twice', async () => {
    let proxy!: TcpProxy;
    const { devhost, writer } = await connected(120_000, 4, async (url) => {
      proxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(url).port) });
      cleanups.push(() => proxy.stop());
      return proxy.url;
    });
    const held = holdCalls(devhost);
    const batch = (i: number) => [eventInput('w:drop', `d${i}`, { sourceSeq: BigInt(i) })];
    const calls = [1, 2, 3, 4].map((i) => writer.appendBatch(batch(i)).catch((e: unknown) => e));
    await vi.waitFor(() => expect(held.arrived).toBe(4), { timeout: 20_000 });
    proxy.set('drop');
    for (const outcome of await Promise.all(calls)) {
      expect(isSyncError(outcome, 'unavailable')).toBe(true);
      expect((outcome as Error).message).toMatch(/connection lost during the call/);
    }
    // The host still runs what it had received: the calls committed although nobody heard it.
    held.open();
    await vi.waitFor(() => expect(devhost.databases.get(SYNC_DB)?.rows('sync_event').length).toBe(4), {
      timeout: 20_000,
    });
    proxy.set('pass');
    await writer.waitConnected(30_000);
    // The publisher's retries, pipelined again: each answers its original seq as a duplicate.
    const retried = await Promise.all([1, 2, 3, 4].map((i) => writer.appendBatch(batch(i))));
    expect(retried.map((r) => [r[0]?.seq, r[0]?.status])).toEqual([
      [1n, 'duplicate'],
      [2n, 'duplicate'],
      [3n, 'duplicate'],
      [4n, 'duplicate'],
    ]);
    expect(writer.stream('w:drop')?.head).toBe(4n);
  }, 60_000);
});
