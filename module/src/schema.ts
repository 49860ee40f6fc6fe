/**
 * The sync module's schema: every table of the sync lane, and the `spacetimedb` schema object the
 * reducers hang off. Table and column names are the wire names (snake_case), so the accessor a reducer
 * uses (`ctx.db.sync_event`) is the name a client subscribes to (`SELECT * FROM sync_event`).
 */
import { schema, t, table } from 'spacetimedb/server';
import { bridge_config, bridge_delivery, bridge_outbox, bridge_worker } from './bridge-tables.ts';
import { cutover_admin, cutover_audit, cutover_state } from './cutover-tables.ts';
import { publisher_cursor } from './publisher-tables.ts';
import { source_gap, source_policy, stream_source } from './source-tables.ts';
import { revoked_session, token_grant, token_issuer, token_session } from './token-tables.ts';

export {
  bridge_config,
  bridge_delivery,
  bridge_outbox,
  bridge_worker,
  cutover_admin,
  cutover_audit,
  cutover_state,
  publisher_cursor,
  revoked_session,
  source_gap,
  source_policy,
  stream_source,
  token_grant,
  token_issuer,
  token_session,
};

/** One logical stream: its head, what history is still retained, and the epoch of that history. */
export const sync_stream = table(
  { name: 'sync_stream', public: true },
  {
    stream_id: t.string().primaryKey(),
    /** Seq of the newest event; 0 while the stream is empty. */
    head_seq: t.u64(),
    /** Seq of the oldest retained event; head_seq + 1 when nothing is retained. A cursor below it is stale. */
    low_watermark: t.u64(),
    /** Bumped whenever history a client may need is lost (truncation, restore, reset). Starts at 1. */
    epoch: t.u64(),
    /** Retention: keep at least this many newest events; 0 keeps everything. */
    retain_min_events: t.u64(),
    /** Retention: older events are dropped except the newest one per compaction key. */
    compact_by_key: t.bool(),
    /** Authority seq of the newest event appended in authority order (0 before the first); the order itself is kept per authority topic in `stream_source`. */
    last_source_seq: t.u64(),
    /** Number of times the authority seq jumped forward by more than one, and how many seqs went missing. */
    source_gap_count: t.u64(),
    source_gap_missing: t.u64(),
    /** The latest gap, as the missing authority seqs [from, to]; 0/0 when there never was one. */
    last_gap_from: t.u64(),
    last_gap_to: t.u64(),
    created_at: t.timestamp(),
    updated_at: t.timestamp(),
    /** Always {@link WRITER_SCOPE}: the join key that shows every stream head to every writer (visibility.ts). */
    writer_scope: t.string(),
  },
);

/**
 * The columns of an event after its id, shared by `sync_event` (history) and `sync_event_live`
 * (delivery): the same row type on both, so a client treats a live row and a replayed row alike.
 */
const eventColumns = () => ({
  stream_id: t.string(),
  seq: t.u64(),
  idempotency_key: t.string(),
  kind: t.string(),
  payload: t.byteArray(),
  /** SHA-256 of the payload (shared/payload-hash.ts; vectors in proto/testdata). */
  payload_hash: t.byteArray(),
  compaction_key: t.option(t.string()),
  source_topic: t.string(),
  source_seq: t.u64(),
  kafka_topic: t.option(t.string()),
  kafka_partition: t.option(t.i32()),
  kafka_offset: t.option(t.i64()),
  produced_at: t.timestamp(),
  committed_at: t.timestamp(),
});

/**
 * Append-only, sequenced events. (stream_id, seq) and (stream_id, idempotency_key) are unique: the
 * TypeScript module API only declares single-column unique constraints, so the append reducer enforces
 * both through these btree indexes (reducers run serially, so check-then-insert is atomic).
 */
export const sync_event = table(
  {
    name: 'sync_event',
    public: true,
    indexes: [
      { accessor: 'by_stream_seq', algorithm: 'btree', columns: ['stream_id', 'seq'] },
      { accessor: 'by_stream_key', algorithm: 'btree', columns: ['stream_id', 'idempotency_key'] },
      /** Which event holds an authority seq of a topic: proves a re-sent event the same one (append-plan.ts). */
      {
        accessor: 'by_stream_source',
        algorithm: 'btree',
        columns: ['stream_id', 'source_topic', 'source_seq'],
      },
    ],
  },
  { event_id: t.u64().primaryKey().autoInc(), ...eventColumns() },
);

/**
 * Live delivery: an event table (`event: true`). Every append inserts its event here too, in the same
 * transaction; SpacetimeDB sends the row to the subscribers whose query and row-level security match
 * and never stores it (nor does the SDK cache it), so a client following a stream holds no rows and
 * never has to re-subscribe to keep its cache bounded. `event_id` is the event's id in `sync_event`.
 * History (replay from a watermark) stays in `sync_event`.
 */
export const sync_event_live = table(
  { name: 'sync_event_live', public: true, event: true },
  { event_id: t.u64(), ...eventColumns() },
);

/** Per (identity, client, stream) acknowledged seq: the resume watermark a client has confirmed applying. */
export const sync_checkpoint = table(
  {
    name: 'sync_checkpoint',
    public: true,
    indexes: [
      {
        accessor: 'by_owner_client_stream',
        algorithm: 'btree',
        columns: ['owner', 'client_id', 'stream_id'],
      },
    ],
  },
  {
    checkpoint_id: t.u64().primaryKey().autoInc(),
    /** The client/device, named within its owner's namespace: two identities may use the same id. */
    client_id: t.string(),
    owner: t.identity(),
    stream_id: t.string(),
    acked_seq: t.u64(),
    epoch: t.u64(),
    updated_at: t.timestamp(),
  },
);

/** Live sessions; rows expire after their TTL and vanish on disconnect. Each identity sees its own only. */
export const session_presence = table(
  { name: 'session_presence', public: true },
  {
    session_id: t.string().primaryKey(),
    identity: t.identity().index('btree'),
    connection_id: t.option(t.connectionId()),
    device_id: t.string(),
    streams: t.array(t.string()),
    state: t.string(),
    last_seen: t.timestamp(),
    expires_at: t.timestamp(),
  },
);

/** NIP-90/provider capability signalling, one row per (provider, capability). */
export const provider_capability = table(
  { name: 'provider_capability', public: true },
  {
    capability_id: t.string().primaryKey(),
    provider_id: t.string().index('btree'),
    capability: t.string(),
    metadata: t.string(),
    published_by: t.identity(),
    updated_at: t.timestamp(),
  },
);

/** Compute requests and their assignment to providers. */
export const compute_assignment = table(
  { name: 'compute_assignment', public: true },
  {
    request_id: t.string().primaryKey(),
    provider_id: t.string().index('btree'),
    status: t.string(),
    detail: t.string(),
    /** Bumped on every update; an update must name the revision it read (optimistic concurrency). */
    revision: t.u64(),
    opened_by: t.identity(),
    updated_at: t.timestamp(),
  },
);

/**
 * The adapter's exactly-once anchor: next Kafka offset per (group, topic, partition). Public only so
 * row-level security can hand it to writers; every other identity sees no row (visibility.ts).
 */
export const source_cursor = table(
  {
    name: 'source_cursor',
    public: true,
    indexes: [
      { accessor: 'by_source', algorithm: 'btree', columns: ['consumer_group', 'topic', 'partition'] },
    ],
  },
  {
    cursor_id: t.u64().primaryKey().autoInc(),
    consumer_group: t.string(),
    topic: t.string(),
    partition: t.i32(),
    next_offset: t.i64(),
    updated_at: t.timestamp(),
    /** Always {@link WRITER_SCOPE}: writers (the adapter) read the cursors, nobody else (visibility.ts). */
    writer_scope: t.string(),
  },
);

/**
 * The value of every `writer_scope`/`scope` column. SpacetimeDB's row-level security can only say
 * "the sender is a writer" through a join on equal columns, so the writer table and each table writers
 * read carry this constant, and the rule joins on it (visibility.ts). Only the owner reads private
 * tables; this is how the adapter reads what it needs while writing as a plain writer identity.
 */
export const WRITER_SCOPE = 'writers';

/** Identities allowed to append and mutate stream state (the adapter, the owner). */
export const sync_writer = table(
  { name: 'sync_writer', public: false },
  {
    identity: t.identity().primaryKey(),
    label: t.string(),
    granted_at: t.timestamp(),
    /** Always {@link WRITER_SCOPE} (the join key of the writers' visibility rules). */
    scope: t.string().index('btree'),
  },
);

/** Which identity may read which stream ('*' = all streams). */
export const stream_grant = table(
  {
    name: 'stream_grant',
    public: false,
    indexes: [{ accessor: 'by_reader_stream', algorithm: 'btree', columns: ['reader', 'stream_id'] }],
  },
  {
    grant_id: t.u64().primaryKey().autoInc(),
    reader: t.identity(),
    stream_id: t.string(),
    granted_at: t.timestamp(),
  },
);

/**
 * Transient: one receipt per envelope an append call handled, so the caller sees its assigned seq.
 * Only the caller sees its receipts (visibility.ts): they name streams and keys.
 */
export const append_receipt = table(
  { name: 'append_receipt', public: true, event: true },
  {
    /** The identity whose call produced the receipt. */
    caller: t.identity(),
    stream_id: t.string(),
    idempotency_key: t.string(),
    seq: t.u64(),
    /** appended | duplicate */
    status: t.string(),
    /**
     * Position of the event in its call (0 for append_sync_event). Receipts are rows, and rows are a
     * set: without it, two copies of one event in a batch would leave a single receipt.
     */
    batch_index: t.u32(),
  },
);

/**
 * Maintenance timer: one interval row drives presence expiry and retention. Created by `init`; a
 * scheduled reducer runs with the database's own identity as sender.
 */
export const maintenance_schedule = table(
  { name: 'maintenance_schedule', public: false },
  {
    scheduled_id: t.u64().primaryKey().autoInc(),
    scheduled_at: t.scheduleAt(),
  },
);

const spacetimedb = schema({
  sync_stream,
  sync_event,
  sync_event_live,
  sync_checkpoint,
  session_presence,
  bridge_outbox,
  bridge_delivery,
  bridge_worker,
  bridge_config,
  provider_capability,
  compute_assignment,
  source_cursor,
  sync_writer,
  stream_grant,
  append_receipt,
  maintenance_schedule,
  cutover_state,
  cutover_audit,
  cutover_admin,
  token_issuer,
  token_session,
  token_grant,
  revoked_session,
  stream_source,
  source_gap,
  source_policy,
  publisher_cursor,
});

export default spacetimedb;
