/**
 * The publisher-sequence decision, pure so it is tested without a host: given the last seq the module
 * applied for a publisher (0 before its first), what an incoming call numbered `seq` is.
 *  - `apply`: the next one (last + 1) — its events are appended and the cursor moves to it;
 *  - `retry`: at or below last — a repeat of a call already applied (its answer was lost): its events
 *    answer as duplicates, nothing is written twice;
 *  - `ahead`: a predecessor has not been applied (it failed, or is still on its way) — refused,
 *    retryable, naming the seq expected, so one publisher's calls never commit out of its order.
 */
export type PublisherDecision =
  | { readonly kind: 'apply' }
  | { readonly kind: 'retry'; readonly last: bigint }
  | { readonly kind: 'ahead'; readonly expected: bigint };

export function planPublisher(last: bigint, seq: bigint): PublisherDecision {
  if (seq === last + 1n) return { kind: 'apply' };
  if (seq <= last) return { kind: 'retry', last };
  return { kind: 'ahead', expected: last + 1n };
}
