/**
 * An accepted SyncEnvelope as a legacy-lane row, or why it is not one. The legacy topic is the
 * envelope's `source.authority_topic`; the legacy payload is a JSON object, so the payload bytes must be
 * UTF-8 JSON of an object; doc_version is the authority seq, a plain JSON number on the legacy wire.
 * doc_key comes from the naming function (default: the stream id), the seam where the parity mapping
 * plugs in.
 */
import type { SyncEnvelope } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import type { JournalEntry } from '../journal/journal.js';
import type { JsonValue } from '../protocol/canonical-json.js';

export type NotMirrored =
  /** Counted, not an error: the lane serves only its configured topics. */
  | { readonly kind: 'not_mirrored'; readonly reason: 'topic_not_served'; readonly topic: string }
  | {
      readonly kind: 'refused';
      readonly reason: 'payload_not_json' | 'payload_not_object' | 'version_out_of_range';
      readonly detail: string;
    };

export type DocKeyOf = (envelope: SyncEnvelope) => string;

export const streamIdAsDocKey: DocKeyOf = (e) => e.streamId;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function toJournalEntry(
  e: SyncEnvelope,
  servedTopics: ReadonlySet<string>,
  docKeyOf: DocKeyOf = streamIdAsDocKey,
): { ok: true; entry: JournalEntry } | ({ ok: false } & NotMirrored) {
  const topic = e.source?.authorityTopic ?? '';
  if (!servedTopics.has(topic)) return { ok: false, kind: 'not_mirrored', reason: 'topic_not_served', topic };
  let payload: JsonValue;
  try {
    payload = JSON.parse(utf8.decode(e.payload)) as JsonValue;
  } catch (err) {
    return {
      ok: false,
      kind: 'refused',
      reason: 'payload_not_json',
      detail: `${e.streamId}/${e.idempotencyKey}: ${(err as Error).message}`,
    };
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return {
      ok: false,
      kind: 'refused',
      reason: 'payload_not_object',
      detail: `${e.streamId}/${e.idempotencyKey}: the legacy lane carries JSON objects`,
    };
  }
  const seq = e.source?.authoritySeq ?? 0n;
  if (seq < 1n || seq > BigInt(Number.MAX_SAFE_INTEGER)) {
    return {
      ok: false,
      kind: 'refused',
      reason: 'version_out_of_range',
      detail: `${e.streamId}/${e.idempotencyKey}: authority seq ${seq} is not a safe JSON number`,
    };
  }
  return {
    ok: true,
    entry: {
      topic,
      docKey: docKeyOf(e),
      docVersion: Number(seq),
      payload,
      streamId: e.streamId,
      idempotencyKey: e.idempotencyKey,
    },
  };
}
