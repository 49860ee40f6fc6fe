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

describe('SpacetimeWriter', () => {
  it('fails a call in flight as soon as the connection drops, instead of waiting out its timeout', async () => {
    const devhost = await startSyncDevhost();
    const writer = await SpacetimeWriter.connect({
      uri: devhost.url,
      database: SYNC_DB,
      token: devhost.ownerToken,
      logger: createLogger({ level: 'silent' }),
      callTimeoutMs: 120_000,
    });
    cleanups.push(() => writer.close());
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
});
