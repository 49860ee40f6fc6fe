/**
 * The prelude of the suites that watch live delivery through the `sync_event_live` event table: a
 * devhost of its own per test with the owner (the writer) connected, anonymous readers that record
 * each live row they get as `stream#seq`, and the owner granting a reader a stream. Everything a test
 * starts here is stopped after it, newest first.
 */
import type { Devhost } from '@spacetime-sync/devhost';
import { Identity } from 'spacetimedb';
import { afterEach } from 'vitest';
import { type Connected, connect, startSyncDevhost } from './devhost-harness.js';

export interface LiveReader {
  readonly c: Connected;
  /** The live rows this reader got, `stream#seq`, in arrival order. */
  readonly seen: string[];
}

export interface LiveEventHost {
  readonly devhost: Devhost;
  readonly owner: Connected;
  /** A new anonymous reader, recording live rows from the moment it connects (not yet subscribed). */
  reader(): Promise<LiveReader>;
  /** The owner lets `reader` read `streamId`. */
  grant(reader: LiveReader, streamId: string): Promise<void>;
}

/** Registers the teardown; `start()` in a test starts that test's devhost. */
export function useLiveEventHosts(): { start(): Promise<LiveEventHost> } {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function reader(devhost: Devhost): Promise<LiveReader> {
    const c = await connect(devhost);
    cleanups.push(async () => c.conn.disconnect());
    const seen: string[] = [];
    c.conn.db.syncEventLive.onInsert((_ctx, row) => seen.push(`${row.streamId}#${row.seq}`));
    return { c, seen };
  }

  return {
    async start() {
      const devhost = await startSyncDevhost();
      cleanups.push(() => devhost.stop());
      const owner = await connect(devhost, devhost.ownerToken);
      cleanups.push(async () => owner.conn.disconnect());
      return {
        devhost,
        owner,
        reader: () => reader(devhost),
        grant: (r, streamId) =>
          owner.conn.reducers.grantStreamRead({ reader: Identity.fromString(r.c.identityHex), streamId }),
      };
    },
  };
}
