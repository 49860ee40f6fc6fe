/**
 * The Kafka cursor's order check, pure so it is tested without a host. The adapter keeps several
 * `append_sync_events` calls of one partition in flight; SpacetimeDB runs them in the order they were
 * sent, but a call that fails (refused, or lost with its connection) does not stop the next one. So a
 * pipelined call names `from_offset`, the cursor its predecessor leaves, and is applied only when the
 * stored cursor is there or past it: "every message below it is applied" is the cursor's meaning,
 * so a call applied past a failed predecessor would move the cursor over messages never written,
 * and their redelivery would land after the later events (reordered) or not at all (lost).
 *  - `apply`: no `from_offset` (a call with nothing in flight before it), or the stored cursor is at or
 *    past it (past it: the same messages again after a lost answer — its events answer as duplicates);
 *  - `ahead`: the predecessor has not committed — refused, retryable (`out_of_order_sequence`),
 *    nothing of the call is written.
 */
export type CursorDecision =
  | { readonly kind: 'apply' }
  | { readonly kind: 'ahead'; readonly stored: bigint | undefined };

export function planCursor(stored: bigint | undefined, from: bigint | undefined): CursorDecision {
  if (from === undefined) return { kind: 'apply' };
  if (stored !== undefined && stored >= from) return { kind: 'apply' };
  return { kind: 'ahead', stored };
}
