/**
 * The bridge's tables: the outbox of events for external mirrors (Nostr relays), one delivery record
 * per (event, relay), the identities that run a bridge worker for a target, and the outbox retention.
 *
 * `bridge_outbox` and `bridge_delivery` are public only so row-level security can hand them to a
 * bridge worker: `visibility.ts` shows a connection the rows of the targets it was granted
 * (`grant_bridge_worker`) and nothing else; the owner sees everything, desktop clients nothing.
 */
import { t, table } from 'spacetimedb/server';

/** Events queued for an external mirror. Nothing here is read by the sync reducers: failures never block appends. */
export const bridge_outbox = table(
  {
    name: 'bridge_outbox',
    public: true,
    indexes: [
      { accessor: 'by_status', algorithm: 'btree', columns: ['status'] },
      { accessor: 'by_target', algorithm: 'btree', columns: ['target'] },
    ],
  },
  {
    outbox_id: t.u64().primaryKey().autoInc(),
    /** Caller-chosen idempotency key: enqueueing the same key twice is a no-op. */
    bridge_key: t.string().unique(),
    stream_id: t.string(),
    seq: t.u64(),
    /** Which mirror lane takes it (a worker is granted targets); e.g. `nostr`. */
    target: t.string(),
    /** Nostr event kind of the mirrored event. */
    kind: t.u32(),
    /** The event's content (UTF-8 text for Nostr). */
    payload: t.byteArray(),
    /** pending (some relay not settled) | sent (every relay has it) | failed (some relay refused it for good) */
    status: t.string(),
    /** Refusals over all relays, for operators. */
    attempts: t.u32(),
    /** Refusals one relay may give before its delivery fails. */
    max_attempts: t.u32(),
    last_error: t.option(t.string()),
    created_at: t.timestamp(),
    updated_at: t.timestamp(),
  },
);

/** One relay's delivery of one outbox event. Created by the first report about that relay. */
export const bridge_delivery = table(
  {
    name: 'bridge_delivery',
    public: true,
    indexes: [
      { accessor: 'by_outbox_relay', algorithm: 'btree', columns: ['outbox_id', 'relay'] },
      { accessor: 'by_target', algorithm: 'btree', columns: ['target'] },
    ],
  },
  {
    delivery_id: t.u64().primaryKey().autoInc(),
    outbox_id: t.u64(),
    /** Copied from the outbox row: row-level security filters on it. */
    target: t.string(),
    /** The relay's label from the worker's configuration (never a URL with credentials). */
    relay: t.string(),
    /** pending (refused, will retry) | sent | failed (refused max_attempts times) */
    status: t.string(),
    /** Refusals (`OK false`) from this relay. */
    attempts: t.u32(),
    /** The relay's reason for the latest refusal. */
    last_error: t.option(t.string()),
    /** Nostr event id (hex) the relay acknowledged or refused. */
    event_id: t.string(),
    updated_at: t.timestamp(),
  },
);

/** Identities that run a bridge worker for a target: they see that target's outbox and record deliveries. */
export const bridge_worker = table(
  {
    name: 'bridge_worker',
    public: false,
    indexes: [{ accessor: 'by_identity_target', algorithm: 'btree', columns: ['identity', 'target'] }],
  },
  {
    worker_id: t.u64().primaryKey().autoInc(),
    identity: t.identity(),
    target: t.string(),
    granted_at: t.timestamp(),
  },
);

/** Singleton (id 0): how long sent outbox rows are kept before maintenance prunes them. */
export const bridge_config = table(
  { name: 'bridge_config', public: false },
  {
    config_id: t.u32().primaryKey(),
    sent_retention_micros: t.u64(),
    updated_at: t.timestamp(),
  },
);
