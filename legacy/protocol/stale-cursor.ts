/**
 * The stale-cursor rule and payload (fact sheet §7). Checked at subscribe time for every requested
 * topic that has a `resume_after` entry, before anything is replayed: below the retention floor
 * (oldest retained watermark − 1) is `retention_floor_breach`; otherwise further behind the head than
 * the topic's replay budget is `replay_budget_exceeded`.
 */
import type { PolicyOverrides } from './topic-policy.js';
import { topicPolicy } from './topic-policy.js';

export type StaleReason = 'retention_floor_breach' | 'replay_budget_exceeded';

export interface StaleTopic {
  readonly topic: string;
  readonly reason: StaleReason;
  readonly qos_tier: string;
  readonly resume_after: number;
  readonly retention_floor: number;
  readonly head_watermark: number;
  readonly replay_lag: number;
  readonly replay_budget_events: number;
}

/** What the check reads from the journal. */
export interface TopicBounds {
  /** Smallest retained watermark, undefined when the topic holds no rows. */
  oldest(topic: string): number | undefined;
  /** Largest retained watermark, 0 when the topic holds no rows (as the original's `max()` query). */
  head(topic: string): number;
}

export function staleTopics(
  topics: readonly string[],
  resumeAfter: ReadonlyMap<string, number>,
  bounds: TopicBounds,
  overrides: PolicyOverrides = {},
): StaleTopic[] {
  const stale: StaleTopic[] = [];
  for (const topic of topics) {
    const resume = resumeAfter.get(topic);
    if (resume === undefined) continue;
    const oldest = bounds.oldest(topic);
    const retentionFloor = oldest === undefined ? 0 : Math.max(oldest - 1, 0);
    const head = bounds.head(topic);
    const policy = topicPolicy(topic, overrides);
    const lag = Math.max(head - resume, 0);
    const reason: StaleReason | undefined =
      resume < retentionFloor
        ? 'retention_floor_breach'
        : lag > policy.replayBudgetEvents
          ? 'replay_budget_exceeded'
          : undefined;
    if (reason === undefined) continue;
    stale.push({
      topic,
      reason,
      qos_tier: policy.qosTier,
      resume_after: resume,
      retention_floor: retentionFloor,
      head_watermark: head,
      replay_lag: lag,
      replay_budget_events: policy.replayBudgetEvents,
    });
  }
  return stale;
}

/** The `stale_cursor` error payload for the stale topics (non-empty). */
export function staleCursorPayload(stale: readonly StaleTopic[], overrides: PolicyOverrides = {}) {
  const reasonCodes = [...new Set(stale.map((s) => s.reason))];
  const onlyBudget = reasonCodes.length === 1 && reasonCodes[0] === 'replay_budget_exceeded';
  const snapshotTopics = stale.flatMap((s) => {
    const snapshot = topicPolicy(s.topic, overrides).snapshot;
    return snapshot
      ? [{ topic: s.topic, head_watermark: s.head_watermark, snapshot: { topic: s.topic, ...snapshot } }]
      : [];
  });
  return {
    code: 'stale_cursor' as const,
    message: onlyBudget
      ? 'replay budget exceeded for topic qos tier; full resync required'
      : 'cursor is older than retention floor',
    full_resync_required: true,
    reason_codes: reasonCodes,
    stale_topics: stale,
    snapshot_plan: { format: 'openagents.sync.snapshot.v1', topics: snapshotTopics },
  };
}
