/**
 * The append decision, kept pure so it is tested without a host: given what the stream, the
 * idempotency index and the authority's order hold, what happens to one incoming event.
 *
 * Authority seqs are ordered per (stream, authority topic), as the contract says: two authorities
 * writing one stream each have their own order. An authority seq at or below the newest one of its
 * topic is never dropped silently: it is the same event again (a duplicate, proven by its payload
 * hash), a late event filling a gap the authority left (appended: dead-letter replay and
 * out-of-order partitions), or a regression (refused with a reason).
 */
export interface StreamHead {
  readonly head_seq: bigint;
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

/** What the module knows about the incoming event's authority topic on its stream. */
export interface AuthorityOrder {
  /** Newest authority seq appended for this (stream, topic); 0 before the first. */
  readonly last_seq: bigint;
  /** The largest step forward one event may make; a bigger one is refused (one envelope must not block a topic). */
  readonly max_forward_jump: bigint;
  /** The event already holding this authority seq of the topic on the stream, if any (asked only for seqs ≤ last_seq). */
  readonly holder: (source_seq: bigint) => ExistingEvent | undefined;
  /** Whether the seq lies in a gap the authority left and nothing filled yet (asked only for seqs ≤ last_seq). */
  readonly in_open_gap: (source_seq: bigint) => boolean;
}

export type AppendDecision =
  /** New event: it gets `seq`; `gap` is set when the authority skipped seqs before it. */
  | { readonly kind: 'append'; readonly seq: bigint; readonly gap?: { from: bigint; to: bigint } }
  /** A late event: its authority seq was skipped before and is filled now; it gets `seq`. */
  | { readonly kind: 'append_late'; readonly seq: bigint; readonly fills: bigint }
  /** The same event again (same key and hash, or same authority seq and hash): it already holds `seq`. */
  | { readonly kind: 'duplicate'; readonly seq: bigint }
  /** A new event whose authority seq is taken or long past: refused as a source regression. */
  | { readonly kind: 'source_regression'; readonly last_source_seq: bigint }
  /** An authority seq too far ahead of the topic's newest: refused, the topic stays usable. */
  | { readonly kind: 'forward_jump'; readonly last_source_seq: bigint; readonly max_forward_jump: bigint }
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
  order: AuthorityOrder,
): AppendDecision {
  if (existing) {
    return bytesEqual(existing.payload_hash, incoming.payload_hash)
      ? { kind: 'duplicate', seq: existing.seq }
      : { kind: 'conflict', seq: existing.seq };
  }
  const src = incoming.source_seq;
  const seq = head.head_seq + 1n;
  if (src === 0n) return { kind: 'append', seq };
  const last = order.last_seq;
  if (src > last) {
    if (src - last > order.max_forward_jump) {
      return { kind: 'forward_jump', last_source_seq: last, max_forward_jump: order.max_forward_jump };
    }
    return last !== 0n && src > last + 1n
      ? { kind: 'append', seq, gap: { from: last + 1n, to: src - 1n } }
      : { kind: 'append', seq };
  }
  const holder = order.holder(src);
  if (holder) {
    // Proven the same event by its payload: the publisher learns where it already is.
    return bytesEqual(holder.payload_hash, incoming.payload_hash)
      ? { kind: 'duplicate', seq: holder.seq }
      : { kind: 'source_regression', last_source_seq: last };
  }
  return order.in_open_gap(src)
    ? { kind: 'append_late', seq, fills: src }
    : { kind: 'source_regression', last_source_seq: last };
}
