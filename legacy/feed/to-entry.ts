/**
 * An accepted SyncEnvelope as a legacy-lane row, or why it is not one. The legacy topic is the
 * envelope's `source.authority_topic`; the legacy payload is a JSON object, so the payload bytes must be
 * UTF-8 JSON of an object; doc_version is the authority seq, a plain JSON number on the legacy wire.
 * doc_key comes from the parity mapping (parity/mapping.ts, the one place the lanes' names meet):
 * the stream id, or the generation-1 form for topics with a doc-key rule (a worker event is the
 * document `runtime/codex_worker_event:<worker>:<seq>`). A stream outside its topic's rule is refused.
 */

import { GEN1_RULES, LaneMapping, MappingError } from '../../parity/mapping.js';
import type { SyncEnvelope } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import type { JournalEntry } from '../journal/journal.js';
import type { JsonValue } from '../protocol/canonical-json.js';

export type NotMirrored =
  /** Counted, not an error: the lane serves only its configured topics. */
  | { readonly kind: 'not_mirrored'; readonly reason: 'topic_not_served'; readonly topic: string }
  | {
      readonly kind: 'refused';
      readonly reason: 'payload_not_json' | 'payload_not_object' | 'version_out_of_range' | 'unmappable';
      readonly detail: string;
    };

export type DocKeyOf = (envelope: SyncEnvelope) => string;

const GEN1 = new LaneMapping(GEN1_RULES);

/** The generation-1 doc_key of an envelope (throws MappingError for a stream outside its topic's rule). */
export const gen1DocKey: DocKeyOf = (e) =>
  GEN1.fromCandidate({
    streamId: e.streamId,
    sourceTopic: e.source?.authorityTopic ?? '',
    sourceSeq: e.source?.authoritySeq ?? 0n,
  }).docKey;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function toJournalEntry(
  e: SyncEnvelope,
  servedTopics: ReadonlySet<string>,
  docKeyOf: DocKeyOf = gen1DocKey,
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
  let docKey: string;
  try {
    docKey = docKeyOf(e);
  } catch (err) {
    if (!(err instanceof MappingError)) throw err;
    return {
      ok: false,
      kind: 'refused',
      reason: 'unmappable',
      detail: `${e.streamId}/${e.idempotencyKey}: ${err.message}`,
    };
  }
  return {
    ok: true,
    entry: {
      topic,
      docKey,
      docVersion: Number(seq),
      payload,
      streamId: e.streamId,
      idempotencyKey: e.idempotencyKey,
    },
  };
}
