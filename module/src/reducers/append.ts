/**
 * append_sync_event / append_sync_events: gapless, monotonic seq per stream, idempotent by
 * (stream_id, idempotency_key), conflict on a reused key with a different payload hash; authority
 * seqs ordered per (stream, authority topic) (source-order.ts): a taken or stale one is refused as a
 * source regression, a too-big step forward as invalid, a skipped one filled late.
 * append_publisher_events: the same for a pipelining Connect publisher's call, applied only in the
 * publisher's own order (publisher_cursor, ../logic/publisher-plan.ts).
 */

import { t } from 'spacetimedb/server';
import { planAppend } from '../logic/append-plan.ts';
import { requireWriter } from '../logic/auth.ts';
import { planCursor } from '../logic/cursor-plan.ts';
import { fail } from '../logic/fail.ts';
import { planPublisher } from '../logic/publisher-plan.ts';
import spacetimedb, { WRITER_SCOPE } from '../schema.ts';
import { advanceOrder, authorityOrder, fillOrder } from './source-order.ts';

export const EventInput = t.object('EventInput', {
  stream_id: t.string(),
  idempotency_key: t.string(),
  kind: t.string(),
  payload: t.byteArray(),
  payload_hash: t.byteArray(),
  compaction_key: t.option(t.string()),
  source_topic: t.string(),
  source_seq: t.u64(),
  kafka_topic: t.option(t.string()),
  kafka_partition: t.option(t.i32()),
  kafka_offset: t.option(t.i64()),
  produced_at: t.timestamp(),
});

export const CursorInput = t.object('CursorInput', {
  consumer_group: t.string(),
  topic: t.string(),
  partition: t.i32(),
  /** The Kafka offset to resume from: last offset covered by this batch + 1. */
  next_offset: t.i64(),
  /**
   * Set by a pipelined call: the cursor its predecessor leaves. Applied only when the stored cursor
   * is at or past it (../logic/cursor-plan.ts), so a failed predecessor is never overtaken.
   */
  from_offset: t.option(t.i64()),
});

/** A pipelining publisher's name and its number for this call (1, 2, 3, … in the order it made them). */
export const PublisherInput = t.object('PublisherInput', {
  publisher_id: t.string(),
  publisher_seq: t.u64(),
});

type Ctx = Parameters<Parameters<typeof spacetimedb.reducer>[1]>[0];
type Event = Parameters<typeof EventInput.serialize>[1];
type Cursor = Parameters<typeof CursorInput.serialize>[1];
type Publisher = Parameters<typeof PublisherInput.serialize>[1];

const SHA256_BYTES = 32;
const MAX_KEY = 256;

/** The contract's limits again (the adapter checks them first; other writers may not). */
function validate(e: Event, envelope_index: number): void {
  const bad = (field: string, rule_id: string, text: string) =>
    fail('invalid', text, { field, rule_id, envelope_index });
  if (e.stream_id.length === 0 || e.stream_id.length > MAX_KEY)
    throw bad('stream_id', 'string.len_range', 'stream_id must be 1..256 characters');
  if (e.idempotency_key.length === 0 || e.idempotency_key.length > MAX_KEY) {
    throw bad('idempotency_key', 'string.len_range', 'idempotency_key must be 1..256 characters');
  }
  if (e.kind.length === 0) throw bad('kind', 'string.min_len', 'kind must not be empty');
  if (e.payload_hash.length !== SHA256_BYTES)
    throw bad('payload_hash', 'payload_hash.length', `payload_hash must be ${SHA256_BYTES} bytes (SHA-256)`);
}

type StreamRow = ReturnType<Ctx['db']['sync_stream']['insert']>;

/**
 * The stream rows one call touches, each read once and written back once at the end of the call:
 * rewriting a stream row (delete + insert + index keys) for every event of a batch cost a fifth of
 * the reducer (docs in README "Measured"). The whole call is one transaction, so nothing outside it
 * can see the row between events; a refusal throws and rolls back all of it.
 */
class StreamHeads {
  readonly #rows = new Map<string, { row: StreamRow; dirty: boolean }>();
  constructor(private readonly ctx: Ctx) {}

  get(streamId: string): StreamRow {
    const held = this.#rows.get(streamId);
    if (held) return held.row;
    const now = this.ctx.timestamp;
    const row =
      this.ctx.db.sync_stream.stream_id.find(streamId) ??
      this.ctx.db.sync_stream.insert({
        stream_id: streamId,
        head_seq: 0n,
        low_watermark: 1n,
        epoch: 1n,
        retain_min_events: 0n,
        compact_by_key: false,
        last_source_seq: 0n,
        source_gap_count: 0n,
        source_gap_missing: 0n,
        last_gap_from: 0n,
        last_gap_to: 0n,
        created_at: now,
        updated_at: now,
        writer_scope: WRITER_SCOPE,
      });
    this.#rows.set(streamId, { row, dirty: false });
    return row;
  }

  set(row: StreamRow): void {
    this.#rows.set(row.stream_id, { row, dirty: true });
  }

  /** Writes every changed stream row once. */
  flush(): void {
    for (const held of this.#rows.values())
      if (held.dirty) this.ctx.db.sync_stream.stream_id.update(held.row);
  }
}

/**
 * Append one event inside the caller's transaction; throws (rolling everything back) on conflict.
 * `replayOf` is set for a publisher's repeat of a call already applied: its events can only be
 * duplicates; one that is not was never part of that call, and is refused rather than written.
 */
function appendOne(ctx: Ctx, heads: StreamHeads, e: Event, batchIndex: number, replayOf?: Publisher): void {
  validate(e, batchIndex);
  const now = ctx.timestamp;
  const stream = heads.get(e.stream_id);
  let existing: { seq: bigint; payload_hash: Uint8Array } | undefined;
  for (const row of ctx.db.sync_event.by_stream_key.filter([e.stream_id, e.idempotency_key])) existing = row;
  const decision = planAppend(stream, existing, e, authorityOrder(ctx, e));
  const receipt = (seq: bigint, status: string) =>
    ctx.db.append_receipt.insert({
      caller: ctx.sender,
      stream_id: e.stream_id,
      idempotency_key: e.idempotency_key,
      seq,
      status,
      batch_index: batchIndex,
    });
  if (replayOf && decision.kind !== 'duplicate' && decision.kind !== 'conflict') {
    throw fail(
      'invalid',
      `publisher ${replayOf.publisher_id}: seq ${replayOf.publisher_seq} was applied already, and key '${e.idempotency_key}' of stream '${e.stream_id}' was not part of it; number a new call with the next seq`,
      { field: 'publisher_seq', rule_id: 'publisher_seq.already_applied', envelope_index: batchIndex },
    );
  }
  switch (decision.kind) {
    case 'conflict':
      throw fail(
        'conflict',
        `stream '${e.stream_id}' key '${e.idempotency_key}' already holds seq ${decision.seq} with a different payload hash`,
        {
          stream_id: e.stream_id,
          idempotency_key: e.idempotency_key,
          existing_seq: decision.seq,
          existing_payload_hash: existing?.payload_hash,
          offered_payload_hash: e.payload_hash,
          envelope_index: batchIndex,
        },
      );
    case 'duplicate':
      receipt(decision.seq, 'duplicate');
      return;
    case 'source_regression':
      // A new event from the authority's past: refused (the whole call rolls back), never skipped
      // silently; the adapter dead-letters it or answers the publisher with this reason.
      throw fail(
        'source_regression',
        `stream '${e.stream_id}' already holds authority seq ${decision.last_source_seq} of '${e.source_topic}'; key '${e.idempotency_key}' offers ${e.source_seq}, which is taken by another event or was never left open`,
        {
          stream_id: e.stream_id,
          authority_topic: e.source_topic,
          last_authority_seq: decision.last_source_seq,
          offered_authority_seq: e.source_seq,
          envelope_index: batchIndex,
        },
      );
    case 'forward_jump':
      // One envelope with an absurd seq would otherwise leave the topic accepting nothing after it.
      throw fail(
        'invalid',
        `stream '${e.stream_id}' is at authority seq ${decision.last_source_seq} of '${e.source_topic}'; key '${e.idempotency_key}' offers ${e.source_seq}, more than the allowed step of ${decision.max_forward_jump} ahead`,
        {
          field: 'source.authority_seq',
          rule_id: 'authority_seq.max_forward_jump',
          envelope_index: batchIndex,
        },
      );
    case 'append_late':
      insertEvent(ctx, e, decision.seq);
      fillOrder(ctx, e, decision.fills);
      heads.set({
        ...stream,
        head_seq: decision.seq,
        source_gap_missing: stream.source_gap_missing > 0n ? stream.source_gap_missing - 1n : 0n,
        updated_at: now,
      });
      receipt(decision.seq, 'appended');
      return;
    case 'append': {
      insertEvent(ctx, e, decision.seq);
      const gap = decision.gap;
      if (e.source_seq !== 0n) advanceOrder(ctx, e, e.source_seq, gap);
      heads.set({
        ...stream,
        head_seq: decision.seq,
        last_source_seq: e.source_seq === 0n ? stream.last_source_seq : e.source_seq,
        source_gap_count: stream.source_gap_count + (gap ? 1n : 0n),
        source_gap_missing: stream.source_gap_missing + (gap ? gap.to - gap.from + 1n : 0n),
        last_gap_from: gap ? gap.from : stream.last_gap_from,
        last_gap_to: gap ? gap.to : stream.last_gap_to,
        updated_at: now,
      });
      receipt(decision.seq, 'appended');
      return;
    }
  }
}

function insertEvent(ctx: Ctx, e: Event, seq: bigint): void {
  const row = ctx.db.sync_event.insert({
    event_id: 0n,
    stream_id: e.stream_id,
    seq,
    idempotency_key: e.idempotency_key,
    kind: e.kind,
    payload: e.payload,
    payload_hash: e.payload_hash,
    compaction_key: e.compaction_key,
    source_topic: e.source_topic,
    source_seq: e.source_seq,
    kafka_topic: e.kafka_topic,
    kafka_partition: e.kafka_partition,
    kafka_offset: e.kafka_offset,
    produced_at: e.produced_at,
    committed_at: ctx.timestamp,
  });
  // The same row to live subscribers (an event table: delivered, never stored).
  ctx.db.sync_event_live.insert(row);
}

type CursorRow = ReturnType<Ctx['db']['source_cursor']['insert']>;

function storedCursor(ctx: Ctx, c: Cursor): CursorRow | undefined {
  let row: CursorRow | undefined;
  for (const r of ctx.db.source_cursor.by_source.filter([c.consumer_group, c.topic, c.partition])) row = r;
  return row;
}

/** A pipelined call whose predecessor has not committed is refused before any of it is written. */
function checkCursorOrder(ctx: Ctx, c: Cursor): CursorRow | undefined {
  const row = storedCursor(ctx, c);
  const decision = planCursor(row?.next_offset, c.from_offset);
  if (decision.kind === 'ahead') {
    const source = `${c.consumer_group}/${c.topic}/${c.partition}`;
    throw fail(
      'out_of_order_sequence',
      `Kafka cursor ${source} is at ${decision.stored ?? 'no offset yet'}; this call starts at ${c.from_offset}, after a call that has not committed — resend from the cursor`,
      { publisher_id: source, expected_seq: decision.stored ?? 0n, offered_seq: c.from_offset ?? 0n },
    );
  }
  return row;
}

function advanceCursor(ctx: Ctx, c: Cursor, row: CursorRow | undefined): void {
  if (!row) {
    const { from_offset: _from, ...cursor } = c;
    ctx.db.source_cursor.insert({
      cursor_id: 0n,
      ...cursor,
      updated_at: ctx.timestamp,
      writer_scope: WRITER_SCOPE,
    });
  } else if (c.next_offset > row.next_offset) {
    // A cursor only moves forward: a redelivered older batch must not rewind the anchor.
    ctx.db.source_cursor.cursor_id.update({ ...row, next_offset: c.next_offset, updated_at: ctx.timestamp });
  }
}

export const append_sync_event = spacetimedb.reducer({ event: EventInput }, (ctx, { event }) => {
  requireWriter(ctx.db, ctx.sender, 'append events');
  const heads = new StreamHeads(ctx);
  appendOne(ctx, heads, event, 0);
  heads.flush();
});

/**
 * Atomic batch: every event lands or none does; the Kafka cursor moves in the same transaction, and a
 * pipelined call (`cursor.from_offset`) only after its predecessor's.
 */
export const append_sync_events = spacetimedb.reducer(
  { events: t.array(EventInput), cursor: t.option(CursorInput) },
  (ctx, { events, cursor }) => {
    requireWriter(ctx.db, ctx.sender, 'append events');
    const row = cursor ? checkCursorOrder(ctx, cursor) : undefined;
    const heads = new StreamHeads(ctx);
    for (const [i, e] of events.entries()) appendOne(ctx, heads, e, i);
    heads.flush();
    if (cursor) advanceCursor(ctx, cursor, row);
  },
);

const MAX_PUBLISHER_ID = 128;

/**
 * A pipelining publisher's call: applied only as the next of its seqs, in the same transaction that
 * moves its cursor, so its calls commit in its order whatever order they reach the module in (a
 * predecessor that failed, or is still on its way, holds back every later one).
 */
export const append_publisher_events = spacetimedb.reducer(
  { events: t.array(EventInput), publisher: PublisherInput },
  (ctx, { events, publisher }) => {
    requireWriter(ctx.db, ctx.sender, 'append events');
    const { publisher_id: id, publisher_seq: seq } = publisher;
    if (id.length === 0 || id.length > MAX_PUBLISHER_ID || seq === 0n) {
      throw fail('invalid', `publisher_id must be 1..${MAX_PUBLISHER_ID} characters and publisher_seq ≥ 1`, {
        field: id.length === 0 || id.length > MAX_PUBLISHER_ID ? 'publisher_id' : 'publisher_seq',
        rule_id: 'publish.publisher_sequence',
      });
    }
    const cursor = ctx.db.publisher_cursor.publisher_id.find(id);
    const decision = planPublisher(cursor?.last_seq ?? 0n, seq);
    if (decision.kind === 'ahead') {
      throw fail(
        'out_of_order_sequence',
        `publisher ${id}: seq ${seq} arrived before seq ${decision.expected} was applied; send seq ${decision.expected} first`,
        { publisher_id: id, expected_seq: decision.expected, offered_seq: seq },
      );
    }
    const heads = new StreamHeads(ctx);
    const replayOf = decision.kind === 'retry' ? publisher : undefined;
    for (const [i, e] of events.entries()) appendOne(ctx, heads, e, i, replayOf);
    heads.flush();
    if (decision.kind !== 'apply') return;
    const row = { publisher_id: id, last_seq: seq, updated_at: ctx.timestamp, writer_scope: WRITER_SCOPE };
    if (cursor) ctx.db.publisher_cursor.publisher_id.update(row);
    else ctx.db.publisher_cursor.insert(row);
  },
);
