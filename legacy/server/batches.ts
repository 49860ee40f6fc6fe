/**
 * Reading a topic from a watermark and turning rows into the doubled push the lane sends for every
 * batch (fact sheet §5, §7): `sync:update_batch` with the UpdateBatch JSON, then `sync:frame` with the
 * same payload wrapped in a KhalaFrame whose seq is the batch's highest watermark.
 */
import type { RowRecord } from '../journal/record-codec.js';
import { type PhoenixFrame, push, SYNC_CHANNEL } from '../protocol/frames.js';
import { khalaFrame, type UpdateBatch, type WireUpdate } from '../protocol/payloads.js';

/** What the channel reads from the journal. */
export interface JournalView {
  read(topic: string, after: number, limit: number): RowRecord[];
  head(topic: string): number;
  oldest(topic: string): number | undefined;
}

export function toWireUpdate(row: RowRecord): WireUpdate {
  return {
    topic: row.topic,
    doc_key: row.doc_key,
    doc_version: row.doc_version,
    payload: row.payload,
    payload_hash: row.payload_hash,
    watermark: row.watermark,
    hydration_required: row.payload === null,
  };
}

export interface TopicRead {
  readonly frames: PhoenixFrame[];
  /** The watermark the channel reached: the last row's, or where it started when nothing was read. */
  readonly reached: number;
  readonly complete: boolean;
}

/** One read of up to `limit` rows after `after` (the original's `Replay.fetch_batch` plus its push). */
export function readBatch(
  journal: JournalView,
  joinRef: string | null,
  topic: string,
  after: number,
  limit: number,
): TopicRead {
  const rows = journal.read(topic, after, limit);
  const head = journal.head(topic);
  const last = rows[rows.length - 1]?.watermark ?? after;
  const complete = last >= head;
  if (rows.length === 0) return { frames: [], reached: Math.max(last, after), complete };
  const batch: UpdateBatch = {
    updates: rows.map(toWireUpdate),
    replay_complete: complete,
    head_watermarks: [{ topic, watermark: head }],
  };
  return {
    frames: [
      push(joinRef, SYNC_CHANNEL, 'sync:update_batch', batch),
      push(
        joinRef,
        SYNC_CHANNEL,
        'sync:frame',
        khalaFrame(topic, last, 'KHALA_FRAME_KIND_UPDATE_BATCH', batch),
      ),
    ],
    reached: Math.max(last, after),
    complete,
  };
}

/** Replays a topic batch after batch until the batch that reaches the head (subscribe, §7). */
export function replayTopic(
  journal: JournalView,
  joinRef: string | null,
  topic: string,
  after: number,
  limit: number,
): { frames: PhoenixFrame[]; reached: number } {
  const frames: PhoenixFrame[] = [];
  let at = after;
  for (;;) {
    const read = readBatch(journal, joinRef, topic, at, limit);
    frames.push(...read.frames);
    at = read.reached;
    if (read.complete || read.frames.length === 0) return { frames, reached: at };
  }
}
