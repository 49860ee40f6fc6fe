/**
 * Bookkeeping of the gaps an authority leaves in its order on a stream, kept pure: what remains of a
 * gap once a late event fills one of its seqs, and the limits that keep this state bounded.
 */

/** Default bound on one event's step over its topic's newest authority seq (a writer may change it). */
export const DEFAULT_MAX_FORWARD_JUMP = 1_000_000n;

/** Open gaps remembered per (stream, authority topic); the oldest is forgotten first. */
export const MAX_OPEN_GAPS = 1024;

export interface SeqRange {
  readonly from: bigint;
  readonly to: bigint;
}

export const contains = (gap: SeqRange, seq: bigint): boolean => gap.from <= seq && seq <= gap.to;

/** What is left of `gap` once `seq` (inside it) is filled: nothing, one range, or two. */
export function fillGap(gap: SeqRange, seq: bigint): SeqRange[] {
  const left = seq > gap.from ? [{ from: gap.from, to: seq - 1n }] : [];
  const right = seq < gap.to ? [{ from: seq + 1n, to: gap.to }] : [];
  return [...left, ...right];
}
