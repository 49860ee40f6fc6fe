/**
 * The append decision, kept pure so it is tested without a host: given what the stream and the
 * idempotency index hold, what happens to one incoming event.
 */
export interface StreamHead {
  readonly head_seq: bigint;
  readonly last_source_seq: bigint;
}

export interface ExistingEvent {
  readonly seq: bigint;
  readonly payload_hash: Uint8Array;
}

export interface IncomingEvent {
  readonly idempotency_key: string;
  readonly payload_hash: Uint8Array;
  /** Authority seq; 0 means the source has none (e.g. Connect ingest without one). */
  readonly source_seq: bigint;
}

export type AppendDecision =
  /** New event: it gets `seq`; `gap` is set when the authority skipped seqs before it. */
  | { readonly kind: 'append'; readonly seq: bigint; readonly gap?: { from: bigint; to: bigint } }
  /** Same key, same hash: nothing to write, the event already holds `seq`. */
  | { readonly kind: 'duplicate'; readonly seq: bigint }
  /** A new key whose authority seq is not past the stream's: refused as a source regression. */
  | { readonly kind: 'source_regression'; readonly last_source_seq: bigint }
  /** Same key, different hash: refuse, never overwrite. */
  | { readonly kind: 'conflict'; readonly seq: bigint };

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function planAppend(
  head: StreamHead,
  existing: ExistingEvent | undefined,
  incoming: IncomingEvent,
): AppendDecision {
  if (existing) {
    return bytesEqual(existing.payload_hash, incoming.payload_hash)
      ? { kind: 'duplicate', seq: existing.seq }
      : { kind: 'conflict', seq: existing.seq };
  }
  const src = incoming.source_seq;
  if (src !== 0n && head.last_source_seq !== 0n && src <= head.last_source_seq) {
    return { kind: 'source_regression', last_source_seq: head.last_source_seq };
  }
  const seq = head.head_seq + 1n;
  if (src !== 0n && head.last_source_seq !== 0n && src > head.last_source_seq + 1n) {
    return { kind: 'append', seq, gap: { from: head.last_source_seq + 1n, to: src - 1n } };
  }
  return { kind: 'append', seq };
}
