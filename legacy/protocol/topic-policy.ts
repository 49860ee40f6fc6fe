/**
 * Per-topic policy of the generation-1 lane (fact sheet §10): QoS tier and replay budget (the stale-
 * cursor rule of §7), retention (how long the journal keeps a row), and the snapshot policy that the
 * stale-cursor payload's `snapshot_plan` points at.
 */

export interface SnapshotPolicy {
  readonly format: 'openagents.sync.snapshot.v1';
  readonly schema_version: 1;
  readonly cadence_seconds: number;
  readonly source_table: string;
}

export interface TopicPolicy {
  readonly qosTier: 'hot' | 'warm' | 'cold';
  readonly replayBudgetEvents: number;
  readonly retentionSeconds: number;
  readonly snapshot?: SnapshotPolicy;
}

function snapshot(cadence_seconds: number, source_table: string): SnapshotPolicy {
  return { format: 'openagents.sync.snapshot.v1', schema_version: 1, cadence_seconds, source_table };
}

const POLICIES: Readonly<Record<string, TopicPolicy>> = {
  'runtime.run_summaries': {
    qosTier: 'warm',
    replayBudgetEvents: 20_000,
    retentionSeconds: 604_800,
    snapshot: snapshot(300, 'runtime.sync_run_summaries'),
  },
  'runtime.codex_worker_summaries': {
    qosTier: 'warm',
    replayBudgetEvents: 10_000,
    retentionSeconds: 259_200,
    snapshot: snapshot(120, 'runtime.sync_codex_worker_summaries'),
  },
  'runtime.codex_worker_events': { qosTier: 'hot', replayBudgetEvents: 3_000, retentionSeconds: 86_400 },
  'runtime.notifications': { qosTier: 'cold', replayBudgetEvents: 500, retentionSeconds: 43_200 },
};

/** "any other" row of §10. */
const FALLBACK: TopicPolicy = { qosTier: 'warm', replayBudgetEvents: 10_000, retentionSeconds: 86_400 };

/** The four generation-1 topics (§3): what the lane serves unless configured otherwise. */
export const GEN1_TOPICS: readonly string[] = Object.keys(POLICIES);

export type PolicyOverrides = Readonly<Record<string, Partial<TopicPolicy>>>;

/** The policy of `topic`, with any overrides (tests shrink budgets and retention with these). */
export function topicPolicy(topic: string, overrides: PolicyOverrides = {}): TopicPolicy {
  return { ...(POLICIES[topic] ?? FALLBACK), ...overrides[topic] };
}
