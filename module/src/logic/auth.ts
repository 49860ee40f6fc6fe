import type { Identity } from 'spacetimedb';
import { fail } from './fail.ts';

/** The slice of the db the writer check reads; kept structural so tests can pass a plain object. */
export interface WriterLookup {
  readonly sync_writer: { readonly identity: { find(id: Identity): unknown } };
}

/** The slice of the db the read check reads: writers, and read grants by (reader, stream). */
export interface ReaderLookup extends WriterLookup {
  readonly stream_grant: {
    readonly by_reader_stream: { filter(key: [Identity, string]): Iterable<unknown> };
  };
  /** Grants a scoped token gave a live connection. */
  readonly token_grant: {
    readonly by_reader_stream: { filter(key: [Identity, string]): Iterable<unknown> };
  };
}

export function isWriter(db: WriterLookup, sender: Identity): boolean {
  return db.sync_writer.identity.find(sender) != null;
}

/** Guard for every reducer that appends or mutates stream state. */
export function requireWriter(db: WriterLookup, sender: Identity, action: string): void {
  if (!isWriter(db, sender)) {
    throw fail('unauthorized', `${sender.toHexString()} is not a sync writer and may not ${action}`, {
      action,
      resource: '',
    });
  }
}

/** Whether `sender` may read `stream_id`: a writer, or granted the stream. */
export function mayRead(db: ReaderLookup, sender: Identity, stream_id: string): boolean {
  if (isWriter(db, sender)) return true;
  for (const _ of db.stream_grant.by_reader_stream.filter([sender, stream_id])) return true;
  for (const _ of db.token_grant.by_reader_stream.filter([sender, stream_id])) return true;
  return false;
}

/**
 * Guard for calls naming a stream on behalf of a reader. Runs before the stream is looked up, and its
 * refusal is the same whether or not the stream exists, so it reveals nothing about streams the caller
 * may not read.
 */
export function requireReader(db: ReaderLookup, sender: Identity, stream_id: string, action: string): void {
  if (!mayRead(db, sender, stream_id)) {
    throw fail('unauthorized', `no read grant for stream '${stream_id}'; may not ${action}`, {
      action,
      resource: stream_id,
    });
  }
}

/** The slice of the db the cutover-admin check reads. */
export interface CutoverAdminLookup {
  readonly sync_writer: {
    readonly identity: { find(id: Identity): { readonly label: string } | null | undefined };
  };
  readonly cutover_admin: { readonly identity: { find(id: Identity): unknown } };
}

/**
 * Guard for moving the cutover: the database owner (today: the writer `init` recorded with label
 * `owner`) or an identity an admin granted (`grant_cutover_admin`). A writer — the adapter's
 * identity — is not an admin by being a writer. The one place that decides it.
 */
export function requireCutoverAdmin(db: CutoverAdminLookup, sender: Identity, action: string): void {
  const isOwner = db.sync_writer.identity.find(sender)?.label === 'owner';
  if (isOwner || db.cutover_admin.identity.find(sender) != null) return;
  throw fail('unauthorized', `${sender.toHexString()} is not a cutover admin and may not ${action}`, {
    action,
    resource: 'cutover',
  });
}
