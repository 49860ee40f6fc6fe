/**
 * What a chaos scenario observed, in the plain shape the invariant checker reads: what the authority
 * published, what SpacetimeDB holds after the run, and what every client applied. Collectors fill it
 * from processes and public surfaces; the checker never talks to anything.
 */

/** One event the authority sent (and was told was accepted by Kafka). Hash in hex. */
export interface PublishedEvent {
  readonly streamId: string;
  readonly key: string;
  readonly payloadHash: string;
  /**
   * The authority's own seq of the event in its stream, when the publisher knows it. The chaos
   * authority publishes each stream gaplessly, so SpacetimeDB must store the event at this seq; the
   * checker relies on it to tell an event retention dropped on purpose from one that was lost.
   */
  readonly seq?: bigint;
}

/** One `sync_event` row as SpacetimeDB holds it at the end of the run. */
export interface StoredEvent {
  readonly streamId: string;
  readonly seq: bigint;
  readonly key: string;
  readonly payloadHash: string;
}

/** One `sync_stream` row: the durable head and the first retained seq. */
export interface StreamHead {
  readonly streamId: string;
  readonly headSeq: bigint;
  readonly lowWatermark: bigint;
  readonly epoch: bigint;
}

/** A client's journal, in the order the client wrote it. */
export type ClientEntry =
  | {
      readonly type: 'applied';
      readonly streamId: string;
      readonly epoch: bigint;
      readonly seq: bigint;
      readonly key: string;
      readonly payloadHash: string;
    }
  /** The client reset its state for the stream; it resumes after `watermark` in `epoch`. */
  | {
      readonly type: 'rebootstrap';
      readonly streamId: string;
      readonly epoch: bigint;
      readonly watermark: bigint;
      /**
       * The client library's reason (`epoch_changed`, `below_low_watermark`, `server_behind`);
       * absent in journals written before it was recorded.
       */
      readonly reason?: string;
    };

export interface ClientHistory {
  readonly clientId: string;
  readonly entries: readonly ClientEntry[];
}

/**
 * History dropped on purpose while some clients were offline: retention truncated the stream below
 * `lowWatermark`, and/or its epoch moved (a reset, or a compaction past a client's checkpoint).
 */
export interface Truncation {
  readonly streamId: string;
  /** The stream's first retained seq right after the truncation. */
  readonly lowWatermark: bigint;
  /** The stream's epoch right after it. */
  readonly epoch: bigint;
  /** Clients that were stopped across it, with how many journal entries each had written then. */
  readonly offline: readonly { readonly clientId: string; readonly entriesBefore: number }[];
}

export interface History {
  readonly published: readonly PublishedEvent[];
  readonly stored: readonly StoredEvent[];
  readonly heads: readonly StreamHead[];
  readonly clients: readonly ClientHistory[];
  /** Divergences the parity harness found between this run's two lanes, when it was run. */
  readonly parity?: { readonly divergences: number; readonly first?: string };
  /** Truncations and epoch changes the run made on purpose (chaos fault `offline_truncate`). */
  readonly truncations?: readonly Truncation[];
}
