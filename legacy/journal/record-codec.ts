/**
 * One journal record per line: `<crc32 as 8 hex digits> <JSON>\n`. The checksum catches a torn or
 * flipped line that still parses as JSON; the decoder says exactly what is wrong so the journal can
 * refuse to start with the byte offset instead of guessing.
 */
import { crc32 } from 'node:zlib';
import type { JsonValue } from '../protocol/canonical-json.js';

/** A row of a topic's log, as stored. */
export interface RowRecord {
  readonly r: 'row';
  readonly topic: string;
  readonly watermark: number;
  readonly doc_key: string;
  readonly doc_version: number;
  readonly payload: JsonValue;
  /** base64 of the raw canonical-JSON SHA-256. */
  readonly payload_hash: string;
  readonly inserted_at_ms: number;
  /** Where the row came from: our stream and idempotency key, so a redelivered event is not a new row. */
  readonly stream_id: string;
  readonly idempotency_key: string;
}

/** Retention: rows of `topic` up to `through` are gone. */
export interface PruneRecord {
  readonly r: 'prune';
  readonly topic: string;
  readonly through: number;
}

export type JournalRecord = RowRecord | PruneRecord;

export function encodeRecord(record: JournalRecord): string {
  const json = JSON.stringify(record);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

export type RecordDecode =
  | { readonly ok: true; readonly record: JournalRecord }
  | { readonly ok: false; readonly why: string };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Decodes one line (without its newline). */
export function decodeRecord(line: string): RecordDecode {
  if (line.length < 10 || line[8] !== ' ') return { ok: false, why: 'no checksum prefix' };
  const json = line.slice(9);
  if (crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8))
    return { ok: false, why: 'checksum mismatch' };
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(json);
  } catch (e) {
    return { ok: false, why: `not JSON: ${(e as Error).message}` };
  }
  if (v.r === 'prune' && isStr(v.topic) && isInt(v.through))
    return { ok: true, record: v as unknown as PruneRecord };
  const row =
    v.r === 'row' &&
    isStr(v.topic) &&
    isInt(v.watermark) &&
    isStr(v.doc_key) &&
    isInt(v.doc_version) &&
    'payload' in v &&
    isStr(v.payload_hash) &&
    isInt(v.inserted_at_ms) &&
    isStr(v.stream_id) &&
    isStr(v.idempotency_key);
  return row ? { ok: true, record: v as unknown as RowRecord } : { ok: false, why: 'not a journal record' };
}
