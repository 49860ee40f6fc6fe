/**
 * The prelude of the sync-module suites: the real module bundle on devhost, called through the
 * unmodified SDK with the generated bindings. The owner connection is the adapter's identity
 * (initial writer, following the stream, event, cursor, receipt and checkpoint tables); the
 * anonymous `reader` is a desktop client. `useSyncModule()` registers the start and stop hooks; the
 * connections are live bindings, set once `beforeAll` has run. Suites that watch what the writer's
 * appends were answered use `useWriterWithReceipts(tables)` instead: devhost and the writer alone,
 * each `append_receipt` insert recorded.
 */
import type { Devhost } from '@spacetime-sync/devhost';
import { afterAll, beforeAll } from 'vitest';
import type { DbConnection } from '../../../module/bindings/index.js';
import { type Connected, connect, startSyncDevhost, subscribe } from '../../support/devhost-harness.js';
import { eventInput } from '../../support/sync-events.js';

export let devhost: Devhost;
export let writer: Connected;
export let reader: Connected;

export function useSyncModule(): void {
  beforeAll(async () => {
    devhost = await startSyncDevhost();
    writer = await connect(devhost, devhost.ownerToken);
    reader = await connect(devhost);
    await subscribe(writer.conn, [
      'SELECT * FROM sync_stream',
      'SELECT * FROM sync_event',
      'SELECT * FROM source_cursor',
      'SELECT * FROM append_receipt',
      'SELECT * FROM sync_checkpoint',
    ]);
    await subscribe(reader.conn, [
      'SELECT * FROM sync_stream',
      'SELECT * FROM session_presence',
      'SELECT * FROM sync_checkpoint',
    ]);
  }, 60_000);

  afterAll(async () => {
    writer?.conn.disconnect();
    reader?.conn.disconnect();
    await devhost?.stop();
  });
}

/** An `append_receipt` insert as the writer saw it. */
export interface Receipt {
  readonly stream: string;
  readonly key: string;
  readonly seq: bigint;
  readonly status: string;
}

export interface WriterWithReceipts {
  readonly devhost: Devhost;
  readonly writer: Connected;
  /** The receipts of the writer's appends, in arrival order; a test may empty it to watch one call. */
  readonly receipts: Receipt[];
}

/**
 * Starts devhost and connects the writer (the owner), subscribed to `tables` and to `append_receipt`,
 * whose inserts land in `receipts`. Registers the start and stop hooks; read `devhost` and `writer`
 * once `beforeAll` has run.
 */
export function useWriterWithReceipts(tables: readonly string[]): WriterWithReceipts {
  let host: Devhost | undefined;
  let conn: Connected | undefined;
  const receipts: Receipt[] = [];
  beforeAll(async () => {
    host = await startSyncDevhost();
    conn = await connect(host, host.ownerToken);
    await subscribe(conn.conn, [...tables.map((t) => `SELECT * FROM ${t}`), 'SELECT * FROM append_receipt']);
    conn.conn.db.appendReceipt.onInsert((_ctx, r) =>
      receipts.push({ stream: r.streamId, key: r.idempotencyKey, seq: r.seq, status: r.status }),
    );
  }, 60_000);

  afterAll(async () => {
    conn?.conn.disconnect();
    await host?.stop();
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useWriterWithReceipts: read before its beforeAll ran');
    return value;
  };
  return {
    get devhost() {
      return started(host);
    },
    get writer() {
      return started(conn);
    },
    receipts,
  };
}

export function event(stream: string, key: string, body: string, sourceSeq = 0n) {
  return eventInput(stream, key, { body, sourceSeq });
}

/** A stream's events as the writer's cache holds them, in seq order. */
export function events(conn: DbConnection, stream: string): { seq: bigint; key: string }[] {
  return [...conn.db.syncEvent.iter()]
    .filter((e) => e.streamId === stream)
    .map((e) => ({ seq: e.seq, key: e.idempotencyKey }))
    .sort((a, b) => (a.seq < b.seq ? -1 : 1));
}

/** A stream's events as the writer's cache holds them, `seq:key` in seq order. */
export const seqKeys = (conn: DbConnection, stream: string): string[] =>
  events(conn, stream).map((e) => `${e.seq}:${e.key}`);

export const head = (conn: DbConnection, stream: string) =>
  conn.db.syncStream.stream_id.find(stream)?.headSeq;
export const append = (c: Connected, e: ReturnType<typeof event>) =>
  c.conn.reducers.appendSyncEvent({ event: e });
export const appendBatch = (
  c: Connected,
  evs: ReturnType<typeof event>[],
  cursor?: {
    consumerGroup: string;
    topic: string;
    partition: number;
    nextOffset: bigint;
    fromOffset?: bigint;
  },
) =>
  c.conn.reducers.appendSyncEvents({
    events: evs,
    cursor: cursor && { ...cursor, fromOffset: cursor.fromOffset },
  });
