/**
 * The JSON payloads the lane sends (fact sheet §5–§8), built in one place so the server and the tests
 * agree on field names: UpdateBatch, the KhalaFrame wrapper, heartbeat watermarks, error codes.
 */
import type { JsonValue } from './canonical-json.js';

export interface TopicWatermark {
  readonly topic: string;
  readonly watermark: number;
}

export interface WireUpdate {
  readonly topic: string;
  readonly doc_key: string;
  readonly doc_version: number;
  readonly payload: JsonValue | null;
  readonly payload_hash: string | null;
  readonly watermark: number;
  readonly hydration_required: boolean;
}

export interface UpdateBatch {
  readonly updates: readonly WireUpdate[];
  readonly replay_complete: boolean;
  readonly head_watermarks: readonly TopicWatermark[];
}

/** Lower-case error codes the generation-1 server emits (§8). */
export type LegacyErrorCode =
  | 'bad_topic'
  | 'bad_subscription'
  | 'forbidden_topic'
  | 'stale_cursor'
  | 'slow_consumer'
  | 'reauth_required';

export type FrameKind = 'KHALA_FRAME_KIND_UPDATE_BATCH' | 'KHALA_FRAME_KIND_ERROR';

export interface KhalaFrame {
  readonly topic: string;
  readonly seq: number;
  readonly kind: FrameKind;
  readonly payload_bytes: string;
  readonly schema_version: 1;
}

/** Topic of an error frame when no topic applies (§6). */
export const UNSPECIFIED_FRAME_TOPIC = 'sync.unspecified';

/** §6: the same payload wrapped; `payload_bytes` is standard base64 of its JSON. */
export function khalaFrame(topic: string, seq: number, kind: FrameKind, payload: unknown): KhalaFrame {
  return {
    topic,
    seq,
    kind,
    payload_bytes: Buffer.from(JSON.stringify(payload), 'utf8').toString('base64'),
    schema_version: 1,
  };
}
