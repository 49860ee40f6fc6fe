import type { Identity } from 'spacetimedb';
import { fail } from './fail.ts';

/** The slice of the db the writer check reads; kept structural so tests can pass a plain object. */
export interface WriterLookup {
  readonly sync_writer: { readonly identity: { find(id: Identity): unknown } };
}

/** Guard for every reducer that appends or mutates stream state. */
export function requireWriter(db: WriterLookup, sender: Identity, action: string): void {
  if (db.sync_writer.identity.find(sender) == null) {
    throw fail('unauthorized', `${sender.toHexString()} is not a sync writer and may not ${action}`, {
      action,
      resource: '',
    });
  }
}
