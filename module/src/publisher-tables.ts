/**
 * Per-publisher sequence state, as Kafka's idempotent producer keeps it in the broker: the last
 * `publisher_seq` the module applied for each pipelining Connect publisher. The append reducer reads
 * and advances it in the same transaction as the events, so the module — not the service's memory —
 * decides the order, and a service restart loses nothing. Public only so row-level security can hand
 * it to writers (publisher ids name the runtime services); every other identity sees no row
 * (visibility.ts).
 */
import { t, table } from 'spacetimedb/server';

export const publisher_cursor = table(
  { name: 'publisher_cursor', public: true },
  {
    publisher_id: t.string().primaryKey(),
    /** The last publisher seq applied (its events committed); the next one applied is last_seq + 1. */
    last_seq: t.u64(),
    updated_at: t.timestamp(),
    /** Always WRITER_SCOPE (schema.ts): the join key of the writers' visibility rule. */
    writer_scope: t.string(),
  },
);
