/**
 * Test harness: the real sync module on devhost over real sockets, and SDK connections to it through
 * the generated bindings — exactly how the adapter and desktop clients talk to SpacetimeDB.
 */

import type { HostedDatabase } from '@spacetime-sync/devhost';
import { type Devhost, startDevhost } from '@spacetime-sync/devhost';
import { AlgebraicType, BinaryReader } from 'spacetimedb';
import type { EmbeddedDevhost } from '../../adapter/embedded-devhost.js';
import { DbConnection } from '../../module/bindings/index.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';

export const SYNC_MODULE = new URL('../../module/src/index.ts', import.meta.url).pathname;
export const SYNC_DB = 'sync';

export interface Connected {
  readonly conn: DbConnection;
  readonly token: string;
  readonly identityHex: string;
}

export async function startSyncDevhost(dataDir?: string, port?: number): Promise<Devhost> {
  return startDevhost({
    databases: [{ name: SYNC_DB, moduleEntry: SYNC_MODULE }],
    ...(dataDir ? { dataDir } : {}),
    ...(port ? { port } : {}),
  });
}

/** Connects with `token` (or anonymously) and resolves once `InitialConnection` arrived. */
export function connect(
  devhost: Pick<Devhost, 'url'>,
  token?: string,
  database = SYNC_DB,
): Promise<Connected> {
  ensureWebSocket();
  return new Promise((resolve, reject) => {
    const conn = DbConnection.builder()
      .withUri(devhost.url)
      .withDatabaseName(database)
      .withToken(token)
      .withCompression('none')
      .onConnect((c, identity, tok) =>
        resolve({ conn: c as DbConnection, token: tok, identityHex: identity.toHexString() }),
      )
      .onConnectError((_ctx, err) => reject(err))
      .build();
    void conn;
  });
}

/** Subscribes and resolves when the initial rows are applied. */
export function subscribe(conn: DbConnection, queries: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    conn
      .subscriptionBuilder()
      .onApplied(() => resolve())
      .onError((ctx) => reject(ctx.event ?? new Error('subscription failed')))
      .subscribe(queries);
  });
}

/** The message a rejected reducer call carries (SenderError text), or undefined if it succeeded. */
export async function rejection(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** What a database holds in `sync_event`, read off the host: per stream, (seq, key) in seq order. */
export function storedEvents(db: HostedDatabase): Map<string, { seq: bigint; key: string }[]> {
  const table = db.schema.tableByName('sync_event');
  if (!table) throw new Error('no sync_event table');
  const decode = AlgebraicType.makeDeserializer(table.rowType, db.schema.typespace as never);
  const out = new Map<string, { seq: bigint; key: string }[]>();
  for (const bytes of db.scanTable(table.tableId)) {
    const e = decode(new BinaryReader(bytes)) as { stream_id: string; seq: bigint; idempotency_key: string };
    const list = out.get(e.stream_id) ?? [];
    list.push({ seq: e.seq, key: e.idempotency_key });
    out.set(e.stream_id, list);
  }
  for (const list of out.values()) list.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  return out;
}

/**
 * `storedEvents` of a service's embedded devhost, in either thread mode: the rows are read and
 * decoded on devhost's own thread (`EmbeddedDevhost.tableRows`), a copy at the time of the call.
 */
export async function embeddedStoredEvents(
  devhost: EmbeddedDevhost | undefined,
  database: string,
): Promise<Map<string, { seq: bigint; key: string }[]>> {
  if (!devhost) throw new Error('no embedded devhost');
  const out = new Map<string, { seq: bigint; key: string }[]>();
  for (const row of await devhost.tableRows(database, 'sync_event')) {
    const e = row as { stream_id: string; seq: bigint; idempotency_key: string };
    const list = out.get(e.stream_id) ?? [];
    list.push({ seq: e.seq, key: e.idempotency_key });
    out.set(e.stream_id, list);
  }
  for (const list of out.values()) list.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  return out;
}
