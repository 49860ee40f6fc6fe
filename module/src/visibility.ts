/**
 * Who may read what (row-level security, SpacetimeDB's `clientVisibilityFilter`). A client sees a
 * stream's events and its head only when a writer granted it the stream (`grant_stream_read`), and
 * only its own checkpoints; a bridge worker sees the outbox of its targets. The owner (the adapter's identity) sees everything.
 */
import spacetimedb from './schema.ts';

export const sync_event_readable = spacetimedb.clientVisibilityFilter.sql(
  'SELECT sync_event.* FROM sync_event JOIN stream_grant ON sync_event.stream_id = stream_grant.stream_id WHERE stream_grant.reader = :sender',
);

export const sync_stream_readable = spacetimedb.clientVisibilityFilter.sql(
  'SELECT sync_stream.* FROM sync_stream JOIN stream_grant ON sync_stream.stream_id = stream_grant.stream_id WHERE stream_grant.reader = :sender',
);

export const sync_checkpoint_own = spacetimedb.clientVisibilityFilter.sql(
  'SELECT * FROM sync_checkpoint WHERE owner = :sender',
);

/** A bridge worker sees the outbox and deliveries of the targets it was granted, nothing else. */
export const bridge_outbox_worker = spacetimedb.clientVisibilityFilter.sql(
  'SELECT bridge_outbox.* FROM bridge_outbox JOIN bridge_worker ON bridge_outbox.target = bridge_worker.target WHERE bridge_worker.identity = :sender',
);

export const bridge_delivery_worker = spacetimedb.clientVisibilityFilter.sql(
  'SELECT bridge_delivery.* FROM bridge_delivery JOIN bridge_worker ON bridge_delivery.target = bridge_worker.target WHERE bridge_worker.identity = :sender',
);
