/**
 * Reading the lane's pushes into typed values: an UpdateBatch (from `sync:update_batch`, or from the
 * base64 JSON inside a `sync:frame`), with every field checked, so a bad server frame is a typed
 * `malformed_frame` / `bad_frame_payload` instead of an exception in the application.
 */
import type { JsonValue } from '../protocol/canonical-json.js';
import { LegacyLaneError } from './errors.js';

/** One row as the application receives it, once per (topic, watermark). */
export interface LegacyUpdate {
  readonly topic: string;
  readonly watermark: number;
  readonly docKey: string;
  readonly docVersion: number;
  /** The JSON object, or null in pointer mode (`hydrationRequired`). */
  readonly payload: JsonValue | null;
  /** base64 of the lane's canonical-JSON SHA-256, or null. */
  readonly payloadHash: string | null;
  readonly hydrationRequired: boolean;
  /** 'replay' when it arrived while a subscribe to its topic was being answered, else 'live'. */
  readonly phase: 'replay' | 'live';
}

export interface ParsedBatch {
  readonly updates: readonly Omit<LegacyUpdate, 'phase'>[];
  readonly replayComplete: boolean;
  readonly heads: ReadonlyMap<string, number>;
}

export interface ParsedFrame {
  readonly topic: string;
  readonly seq: number;
  readonly kind: string;
  readonly payload: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function parseBatch(payload: unknown): ParsedBatch {
  const bad = (why: string) => new LegacyLaneError('malformed_frame', `update batch: ${why}`, payload);
  if (!isObj(payload) || !Array.isArray(payload.updates)) throw bad('no updates array');
  const updates = payload.updates.map((u: unknown) => {
    if (
      !isObj(u) ||
      typeof u.topic !== 'string' ||
      typeof u.doc_key !== 'string' ||
      !isNat(u.watermark) ||
      !isNat(u.doc_version)
    ) {
      throw bad('an update lacks topic, doc_key, doc_version or watermark');
    }
    const hash = typeof u.payload_hash === 'string' ? u.payload_hash : null;
    const payloadValue = u.payload === undefined ? null : (u.payload as JsonValue);
    return {
      topic: u.topic,
      watermark: u.watermark,
      docKey: u.doc_key,
      docVersion: u.doc_version,
      payload: payloadValue,
      payloadHash: hash,
      hydrationRequired: u.hydration_required === true,
    };
  });
  const heads = new Map<string, number>();
  if (Array.isArray(payload.head_watermarks)) {
    for (const h of payload.head_watermarks)
      if (isObj(h) && typeof h.topic === 'string' && isNat(h.watermark)) heads.set(h.topic, h.watermark);
  }
  return { updates, replayComplete: payload.replay_complete === true, heads };
}

/** A KhalaFrame's fields and decoded payload; frames with schema_version ≠ 1 are refused (§6). */
export function parseKhalaFrame(payload: unknown): ParsedFrame {
  if (
    !isObj(payload) ||
    typeof payload.topic !== 'string' ||
    !isNat(payload.seq) ||
    typeof payload.kind !== 'string' ||
    typeof payload.payload_bytes !== 'string'
  ) {
    throw new LegacyLaneError(
      'malformed_frame',
      'sync:frame lacks topic, seq, kind or payload_bytes',
      payload,
    );
  }
  if (payload.schema_version !== 1) {
    throw new LegacyLaneError(
      'malformed_frame',
      `sync:frame schema_version ${String(payload.schema_version)} is not 1`,
      payload,
    );
  }
  let inner: unknown;
  try {
    inner = JSON.parse(Buffer.from(payload.payload_bytes, 'base64').toString('utf8'));
  } catch (e) {
    throw new LegacyLaneError(
      'bad_frame_payload',
      `payload_bytes is not base64 JSON: ${(e as Error).message}`,
      payload,
    );
  }
  return { topic: payload.topic, seq: payload.seq, kind: payload.kind, payload: inner };
}
