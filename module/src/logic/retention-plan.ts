/**
 * Retention and compaction, decided purely from the stream's events and its clients' checkpoints.
 *
 * The low watermark is the start of the contiguous retained suffix: every seq in [low, head] is still
 * there, so a client whose watermark w satisfies w + 1 >= low can resume by replay. Compaction may keep
 * older events (the newest per compaction key) below the watermark; they serve rebootstrap, not replay.
 */
export interface RetainedEvent {
  readonly seq: bigint;
  readonly compaction_key: string | undefined;
}

export interface RetentionPolicy {
  /** Keep at least this many newest events; 0 disables retention for the stream. */
  readonly retain_min_events: bigint;
  readonly compact_by_key: boolean;
}

export interface RetentionPlan {
  readonly deleteSeqs: readonly bigint[];
  readonly lowWatermark: bigint;
  /** True when a client on the current epoch pointed into history this plan deletes. */
  readonly bumpEpoch: boolean;
}

/**
 * @param events the stream's retained events, ascending by seq
 * @param ackedSeqs acknowledged seqs of checkpoints on the stream's current epoch
 */
export function planRetention(
  events: readonly RetainedEvent[],
  head: bigint,
  currentLow: bigint,
  policy: RetentionPolicy,
  ackedSeqs: readonly bigint[],
): RetentionPlan {
  const none: RetentionPlan = { deleteSeqs: [], lowWatermark: currentLow, bumpEpoch: false };
  if (policy.retain_min_events === 0n || head < policy.retain_min_events) return none;
  const windowStart = head - policy.retain_min_events + 1n;

  const keepByKey = new Set<bigint>();
  if (policy.compact_by_key) {
    const newest = new Map<string, bigint>();
    for (const e of events) {
      if (e.seq < windowStart && e.compaction_key !== undefined) newest.set(e.compaction_key, e.seq);
    }
    for (const seq of newest.values()) keepByKey.add(seq);
  }

  const deleteSeqs: bigint[] = [];
  for (const e of events) if (e.seq < windowStart && !keepByKey.has(e.seq)) deleteSeqs.push(e.seq);
  if (deleteSeqs.length === 0) return none;

  // Extend the contiguous suffix downwards through survivors that happen to sit right below it.
  let low = windowStart;
  while (low - 1n >= currentLow && keepByKey.has(low - 1n)) low -= 1n;
  if (low < currentLow) low = currentLow;

  const bumpEpoch = ackedSeqs.some((w) => w + 1n < low);
  return { deleteSeqs, lowWatermark: low, bumpEpoch };
}
