/**
 * Everything the legacy-lane client reports as one error type with a closed code list: the lane's own
 * lower-case codes (fact sheet §8) plus what can go wrong around them. `payload` is the lane's error
 * payload as received, when there was one.
 */
import type { StaleTopic } from '../protocol/stale-cursor.js';

export type LegacyLaneErrorCode =
  /** The socket upgrade was refused (missing, invalid or expired token: HTTP 403 without a body). */
  | 'unauthorized'
  | 'unreachable'
  /** The URL or the first frame is the generation-2 protocol (fact sheet §14), which this client does not speak. */
  | 'generation_2_endpoint'
  | 'bad_topic'
  | 'bad_subscription'
  | 'forbidden_topic'
  | 'stale_cursor'
  | 'slow_consumer'
  | 'reauth_required'
  /** The server stopped the channel (`phx_close` after the idle timeout, `phx_error`). */
  | 'channel_closed'
  /** The server sent something that is not a Phoenix V2 frame, or a frame payload that does not decode. */
  | 'malformed_frame'
  | 'bad_frame_payload'
  /** The same (topic, watermark) arrived with a different payload hash. */
  | 'watermark_reused'
  | 'timeout'
  /** The socket closed. */
  | 'closed';

export class LegacyLaneError extends Error {
  override readonly name = 'LegacyLaneError';
  constructor(
    readonly code: LegacyLaneErrorCode,
    message: string,
    readonly payload?: unknown,
  ) {
    super(`${code}: ${message}`);
  }

  /** For `stale_cursor`: the topics the lane reported stale, with floor, head and budget. */
  get staleTopics(): readonly StaleTopic[] {
    const p = this.payload as { stale_topics?: StaleTopic[] } | undefined;
    return this.code === 'stale_cursor' ? (p?.stale_topics ?? []) : [];
  }

  /** For `forbidden_topic`: the topics refused. */
  get forbiddenTopics(): readonly string[] {
    const p = this.payload as { forbidden_topics?: string[] } | undefined;
    return p?.forbidden_topics ?? [];
  }
}

export function isLegacyLaneError(e: unknown): e is LegacyLaneError {
  return (
    e instanceof Error && e.name === 'LegacyLaneError' && typeof (e as { code?: unknown }).code === 'string'
  );
}

const KNOWN: ReadonlySet<string> = new Set([
  'bad_topic',
  'bad_subscription',
  'forbidden_topic',
  'stale_cursor',
  'slow_consumer',
  'reauth_required',
]);

const DEFAULT_TEXT: Partial<Record<string, string>> = {
  bad_subscription: 'malformed topics or resume_after',
  bad_topic: 'the channel topic is not sync:v1',
};

/** An error reply or `sync:error` payload from the lane as a typed error. */
export function fromLanePayload(payload: unknown, context: string): LegacyLaneError {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as {
    code?: unknown;
    message?: unknown;
    reason?: unknown;
    forbidden_topics?: unknown;
  };
  const code =
    typeof p.code === 'string' && KNOWN.has(p.code) ? (p.code as LegacyLaneErrorCode) : 'malformed_frame';
  const text =
    typeof p.message === 'string'
      ? p.message
      : code === 'forbidden_topic' && Array.isArray(p.forbidden_topics)
        ? `not allowed or not served: ${p.forbidden_topics.join(', ')}`
        : (DEFAULT_TEXT[code] ?? (typeof p.reason === 'string' ? p.reason : JSON.stringify(payload)));
  return new LegacyLaneError(code, `${context}: ${text}`, payload);
}
