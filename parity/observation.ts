/**
 * What a resuming client received from each lane, in the order it received it — the classifier's
 * only input. Collectors (collect/) fill these from the real clients; tests build them by hand.
 */
import type { JsonValue } from './canonical-json.js';

/** One update as the legacy client applied it (doubled batches already folded, keyed by (topic, watermark)). */
export interface LegacyUpdate {
  readonly topic: string;
  readonly watermark: bigint;
  readonly docKey: string;
  readonly docVersion: bigint;
  /** null in pointer mode (`hydration_required`). */
  readonly payload: JsonValue | null;
  /** base64 of the raw canonical digest, as sent; null when not sent. */
  readonly payloadHash: string | null;
  /** When the client received it (ms since epoch). */
  readonly atMs: number;
}

/** One event as our SyncClient handed it to the application. */
export interface CandidateEvent {
  readonly streamId: string;
  readonly seq: bigint;
  readonly sourceTopic: string;
  readonly sourceSeq: bigint;
  readonly idempotencyKey: string;
  readonly payload: Uint8Array;
  readonly payloadHash: Uint8Array;
  readonly atMs: number;
}

export type LegacyEntry =
  | { readonly kind: 'update'; readonly update: LegacyUpdate }
  /** The lane answered a resume with `stale_cursor` for this topic (the client then resyncs it). */
  | { readonly kind: 'stale'; readonly topic: string; readonly reason: string; readonly atMs: number };

export type CandidateEntry =
  | { readonly kind: 'event'; readonly event: CandidateEvent }
  /** SyncClient rebootstrapped the stream (its history moved: epoch change or below the low watermark). */
  | {
      readonly kind: 'rebootstrap';
      readonly streamId: string;
      readonly reason: string;
      readonly atMs: number;
    };

export interface Observations {
  readonly legacy: readonly LegacyEntry[];
  readonly candidate: readonly CandidateEntry[];
}

/** Which part of each lane the comparison covers. */
export interface Scope {
  /** Legacy topics the legacy client subscribed. */
  readonly topics: ReadonlySet<string>;
  /** Streams the candidate client followed. A legacy topic carries other principals' documents too. */
  readonly streams: ReadonlySet<string>;
  /**
   * The clients started from chosen (non-zero) positions: per (topic, stream), events before the later
   * of the two lanes' first deliveries are not compared (each lane skipped a different prefix).
   */
  readonly horizon: boolean;
}
