/**
 * Who may read what (row-level security, SpacetimeDB's `clientVisibilityFilter`). A client sees a
 * stream's events and its head only when a writer granted it the stream (`grant_stream_read`), and
 * only its own checkpoints, receipts and presence; a bridge worker sees the outbox of its targets;
 * writers (the adapter) see every stream head, the Kafka cursors and the publisher cursors. The owner sees everything.
 */
import spacetimedb from './schema.ts';

export const sync_event_readable = spacetimedb.clientVisibilityFilter.sql(
  'SELECT sync_event.* FROM sync_event JOIN stream_grant ON sync_event.stream_id = stream_grant.stream_id WHERE stream_grant.reader = :sender',
);

/** The live copy of an event goes to exactly the clients that may read it in `sync_event`. */
export const sync_event_live_readable = spacetimedb.clientVisibilityFilter.sql(
  'SELECT sync_event_live.* FROM sync_event_live JOIN stream_grant ON sync_event_live.stream_id = stream_grant.stream_id WHERE stream_grant.reader = :sender',
);

export const sync_stream_readable = spacetimedb.clientVisibilityFilter.sql(
  'SELECT sync_stream.* FROM sync_stream JOIN stream_grant ON sync_stream.stream_id = stream_grant.stream_id WHERE stream_grant.reader = :sender',
);

/** Writers see every stream head (ingest answers, lag): the constant `writer_scope` join (schema.ts). */
export const sync_stream_writers = spacetimedb.clientVisibilityFilter.sql(
  'SELECT sync_stream.* FROM sync_stream JOIN sync_writer ON sync_stream.writer_scope = sync_writer.scope WHERE sync_writer.identity = :sender',
);

/** The Kafka cursors: writers only, so the adapter need not be the owner. */
export const source_cursor_writers = spacetimedb.clientVisibilityFilter.sql(
  'SELECT source_cursor.* FROM source_cursor JOIN sync_writer ON source_cursor.writer_scope = sync_writer.scope WHERE sync_writer.identity = :sender',
);

/** Publisher cursors (publisher-tables.ts) name the runtime services that publish: writers only. */
export const publisher_cursor_writers = spacetimedb.clientVisibilityFilter.sql(
  'SELECT publisher_cursor.* FROM publisher_cursor JOIN sync_writer ON publisher_cursor.writer_scope = sync_writer.scope WHERE sync_writer.identity = :sender',
);

/** The cutover audit trail (operators' names and reasons): writers only, like the cursors. */
export const cutover_audit_writers = spacetimedb.clientVisibilityFilter.sql(
  'SELECT cutover_audit.* FROM cutover_audit JOIN sync_writer ON cutover_audit.writer_scope = sync_writer.scope WHERE sync_writer.identity = :sender',
);

/** A connection made with a scoped token reads the streams its token named (token_grant, client_connected). */
export const sync_event_token = spacetimedb.clientVisibilityFilter.sql(
  'SELECT sync_event.* FROM sync_event JOIN token_grant ON sync_event.stream_id = token_grant.stream_id WHERE token_grant.reader = :sender',
);

export const sync_event_live_token = spacetimedb.clientVisibilityFilter.sql(
  'SELECT sync_event_live.* FROM sync_event_live JOIN token_grant ON sync_event_live.stream_id = token_grant.stream_id WHERE token_grant.reader = :sender',
);

export const sync_stream_token = spacetimedb.clientVisibilityFilter.sql(
  'SELECT sync_stream.* FROM sync_stream JOIN token_grant ON sync_stream.stream_id = token_grant.stream_id WHERE token_grant.reader = :sender',
);

/** Each identity sees its own token sessions (a revoked one tells the client to stop). */
export const token_session_own = spacetimedb.clientVisibilityFilter.sql(
  'SELECT * FROM token_session WHERE identity = :sender',
);

export const sync_checkpoint_own = spacetimedb.clientVisibilityFilter.sql(
  'SELECT * FROM sync_checkpoint WHERE owner = :sender',
);

/** Receipts name streams and keys: the caller's own only. */
export const append_receipt_own = spacetimedb.clientVisibilityFilter.sql(
  'SELECT * FROM append_receipt WHERE caller = :sender',
);

/** Presence carries connection ids, devices and streams: each identity sees its own sessions. */
export const session_presence_own = spacetimedb.clientVisibilityFilter.sql(
  'SELECT * FROM session_presence WHERE identity = :sender',
);

/** A bridge worker sees the outbox and deliveries of the targets it was granted, nothing else. */
export const bridge_outbox_worker = spacetimedb.clientVisibilityFilter.sql(
  'SELECT bridge_outbox.* FROM bridge_outbox JOIN bridge_worker ON bridge_outbox.target = bridge_worker.target WHERE bridge_worker.identity = :sender',
);

export const bridge_delivery_worker = spacetimedb.clientVisibilityFilter.sql(
  'SELECT bridge_delivery.* FROM bridge_delivery JOIN bridge_worker ON bridge_delivery.target = bridge_worker.target WHERE bridge_worker.identity = :sender',
);
