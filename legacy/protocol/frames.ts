/**
 * Phoenix V2 JSON frames, the legacy lane's only wire unit: every websocket text message is the array
 * `[join_ref, ref, topic, event, payload]` (fact sheet §1). Decoding is strict about the shape and
 * bounded by the caller's size limit, so a malformed frame is a typed refusal, never a crash.
 */

export interface PhoenixFrame {
  readonly joinRef: string | null;
  readonly ref: string | null;
  readonly topic: string;
  readonly event: string;
  readonly payload: unknown;
}

export type FrameDecode =
  | { readonly ok: true; readonly frame: PhoenixFrame }
  | { readonly ok: false; readonly reason: string };

/** The channel every sync message uses. */
export const SYNC_CHANNEL = 'sync:v1';
/** Phoenix's own socket-level topic (heartbeats). */
export const PHOENIX_TOPIC = 'phoenix';

function refOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/** Parses one text message; `reason` says what was wrong with it. */
export function decodeFrame(text: string): FrameDecode {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
  if (!Array.isArray(value) || value.length !== 5) {
    return { ok: false, reason: 'a frame is a JSON array of exactly 5 elements' };
  }
  const [joinRef, ref, topic, event, payload] = value as unknown[];
  if (!refOrNull(joinRef) || !refOrNull(ref)) {
    return { ok: false, reason: 'join_ref and ref must be strings or null' };
  }
  if (typeof topic !== 'string' || typeof event !== 'string') {
    return { ok: false, reason: 'topic and event must be strings' };
  }
  return { ok: true, frame: { joinRef, ref, topic, event, payload } };
}

export function encodeFrame(frame: PhoenixFrame): string {
  return JSON.stringify([frame.joinRef, frame.ref, frame.topic, frame.event, frame.payload]);
}

/** A `phx_reply` to `request`, echoing its refs (§1: replies echo the request's ref). */
export function reply(
  request: Pick<PhoenixFrame, 'joinRef' | 'ref' | 'topic'>,
  status: 'ok' | 'error',
  response: unknown,
): PhoenixFrame {
  return {
    joinRef: request.joinRef,
    ref: request.ref,
    topic: request.topic,
    event: 'phx_reply',
    payload: { status, response },
  };
}

/** A server push on a channel: carries the channel's join_ref and no ref. */
export function push(joinRef: string | null, topic: string, event: string, payload: unknown): PhoenixFrame {
  return { joinRef, ref: null, topic, event, payload };
}
