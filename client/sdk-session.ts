/**
 * One socket to the database through the unmodified SpacetimeDB SDK, and the only file that knows
 * the generated bindings' table, field and reducer names. Everything else in the client speaks
 * `StreamHead`, `SyncEvent` and plain callbacks, so a bindings rename touches this file alone.
 */
import { DbConnection, type SubscriptionHandle } from '../module/bindings/index.js';
import type { SyncEvent as SyncEventRow } from '../module/bindings/types.js';
import { openHeaderAuthSocket } from './sdk-websocket.js';
import type { StreamHead } from './subscription-plan.js';

export type SyncEvent = SyncEventRow;

export interface SessionTarget {
  readonly uri: string;
  readonly database: string;
  readonly token?: string | undefined;
}

export interface SessionCallbacks {
  opened(): void;
  /** The attempt failed before `InitialConnection`. */
  connectFailed(failure: string): void;
  lost(failure: string): void;
  eventInserted(streamId: string, event: SyncEvent): void;
  /** A stream's row appeared (`updated` false) or changed (`updated` true). */
  streamChanged(streamId: string, updated: boolean): void;
  /** The scoped-token session this connection belongs to was revoked (the server keeps the socket open). */
  sessionRevoked(sessionId: string): void;
}

export interface Subscription {
  readonly handle: SubscriptionHandle;
  /** Unsubscribes if applied and not yet dropped; safe to call more than once. */
  drop(): void;
}

/** Whether a URI points at this machine (localhost, 127.0.0.0/8, ::1). */
export function isLoopback(uri: string): boolean {
  let host: string;
  try {
    host = new URL(uri).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export class SdkSession {
  private readonly conn: DbConnection;

  constructor(target: SessionTarget, cb: SessionCallbacks) {
    this.conn = DbConnection.builder()
      .withUri(target.uri)
      .withDatabaseName(target.database)
      .withToken(target.token)
      // The token goes in the upgrade's header: no token exchange round trip first (sdk-websocket.ts).
      .withWSFn(openHeaderAuthSocket)
      // Compressing for a socket that never leaves the machine costs both ends CPU (gzip + gunzip
      // were ~15 % of a replay's time) and saves nothing; over a network gzip stays (the default).
      .withCompression(isLoopback(target.uri) ? 'none' : 'gzip')
      // Every update the client applies is durable on the server: acks and cursors never run ahead of it.
      .withConfirmedReads(true)
      .onConnect(() => cb.opened())
      .onConnectError((_ctx, err) => cb.connectFailed(`connect error: ${String(err)}`))
      .onDisconnect((_ctx, err) => cb.lost(err ? `disconnected: ${String(err)}` : 'disconnected'))
      .build();
    this.conn.db.syncEvent.onInsert((_ctx, row) => cb.eventInserted(row.streamId, row));
    // The live event table has the same columns: its rows are events like replayed ones.
    this.conn.db.syncEventLive.onInsert((_ctx, row) => cb.eventInserted(row.streamId, row));
    this.conn.db.syncStream.onInsert((_ctx, row) => cb.streamChanged(row.streamId, false));
    this.conn.db.syncStream.onUpdate((_ctx, _old, row) => cb.streamChanged(row.streamId, true));
    // Row-level security shows an identity its own token sessions only.
    this.conn.db.tokenSession.onInsert((_ctx, row) => {
      if (row.revoked) cb.sessionRevoked(row.sessionId);
    });
    this.conn.db.tokenSession.onUpdate((_ctx, _old, row) => {
      if (row.revoked) cb.sessionRevoked(row.sessionId);
    });
  }

  subscribe(queries: string[], applied: () => void, failed: (detail: string) => void): Subscription {
    let dropped = false;
    const handle = this.conn
      .subscriptionBuilder()
      .onApplied(() => applied())
      .onError((ctx) => failed(String(ctx.event ?? 'subscription failed')))
      // Leaving a subscription (every replay window) must not make the host send all its rows back
      // for the cache to drop: the patched SDK drops them itself (patches/README.md).
      .dropRowsLocallyOnUnsubscribe()
      .subscribe(queries);
    return {
      handle,
      drop: () => {
        if (dropped || !handle.isActive()) return;
        dropped = true;
        handle.unsubscribe();
      },
    };
  }

  /** The stream's row as this connection's cache has it. */
  head(streamId: string): StreamHead | undefined {
    const row = this.conn.db.syncStream.stream_id.find(streamId);
    return row ? { epoch: row.epoch, lowWatermark: row.lowWatermark, headSeq: row.headSeq } : undefined;
  }

  /** Cached events of the stream past `from`, in seq order. */
  eventsAfter(streamId: string, from: bigint): SyncEvent[] {
    const rows: SyncEvent[] = [];
    for (const r of this.conn.db.syncEvent.iter()) if (r.streamId === streamId && r.seq > from) rows.push(r);
    return rows.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  }

  /** Rows the SDK caches for this connection's event subscriptions. */
  get cachedEventCount(): number {
    return Number(this.conn.db.syncEvent.count());
  }

  ack(clientId: string, streamId: string, seq: bigint, epoch: bigint): Promise<void> {
    return this.conn.reducers.ackCheckpoint({
      clientId: clientId,
      streamId: streamId,
      ackedSeq: seq,
      epoch,
    });
  }

  presence(p: {
    sessionId: string;
    deviceId: string;
    streams: string[];
    state: string;
    ttlMs: number;
  }): Promise<void> {
    return this.conn.reducers.upsertPresence({
      sessionId: p.sessionId,
      deviceId: p.deviceId,
      streams: p.streams,
      state: p.state,
      ttlMs: p.ttlMs,
    });
  }

  disconnect(): void {
    this.conn.disconnect();
  }
}
