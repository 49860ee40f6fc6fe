/** The adapter's SpacetimeDB writer against the sync module on devhost, over real sockets. */
import { afterEach, describe, expect, it } from 'vitest';
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
async function connected(callTimeoutMs?: number) {
  const devhost = await startSyncDevhost();
  const writer = await SpacetimeWriter.connect({
    uri: devhost.url,
    database: SYNC_DB,
    token: devhost.ownerToken,
    logger: createLogger({ level: 'silent' }),
    ...(callTimeoutMs !== undefined ? { callTimeoutMs } : {}),
  });
  cleanups.push(() => writer.close());
  return { devhost, writer };
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
});
