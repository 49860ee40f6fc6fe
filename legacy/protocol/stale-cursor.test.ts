import { describe, expect, it } from 'vitest';
import { staleCursorPayload, staleTopics } from './stale-cursor.js';

const bounds = (oldest: number | undefined, head: number) => ({ oldest: () => oldest, head: () => head });

describe('stale cursor (§7)', () => {
  it('reproduces the fact sheet payload: resume 10 below floor 42, head 120, warm tier', () => {
    const stale = staleTopics(
      ['runtime.run_summaries'],
      new Map([['runtime.run_summaries', 10]]),
      bounds(43, 120),
    );
    expect(JSON.parse(JSON.stringify(staleCursorPayload(stale)))).toEqual({
      code: 'stale_cursor',
      message: 'cursor is older than retention floor',
      full_resync_required: true,
      reason_codes: ['retention_floor_breach'],
      stale_topics: [
        {
          topic: 'runtime.run_summaries',
          reason: 'retention_floor_breach',
          qos_tier: 'warm',
          resume_after: 10,
          retention_floor: 42,
          head_watermark: 120,
          replay_lag: 110,
          replay_budget_events: 20000,
        },
      ],
      snapshot_plan: {
        format: 'openagents.sync.snapshot.v1',
        topics: [
          {
            topic: 'runtime.run_summaries',
            head_watermark: 120,
            snapshot: {
              topic: 'runtime.run_summaries',
              format: 'openagents.sync.snapshot.v1',
              schema_version: 1,
              cadence_seconds: 300,
              source_table: 'runtime.sync_run_summaries',
            },
          },
        ],
      },
    });
  });

  it('budget only: its own message, no snapshot for a topic without one', () => {
    const topic = 'runtime.codex_worker_events';
    const stale = staleTopics([topic], new Map([[topic, 0]]), bounds(1, 3001));
    expect(stale).toMatchObject([
      { reason: 'replay_budget_exceeded', qos_tier: 'hot', replay_lag: 3001, replay_budget_events: 3000 },
    ]);
    const p = staleCursorPayload(stale);
    expect(p.message).toBe('replay budget exceeded for topic qos tier; full resync required');
    expect(p.snapshot_plan.topics).toEqual([]);
  });

  it('at the floor, within budget, or without a resume entry: not stale', () => {
    const t = 'runtime.run_summaries';
    expect(staleTopics([t], new Map([[t, 42]]), bounds(43, 120))).toEqual([]);
    expect(staleTopics([t], new Map(), bounds(43, 120))).toEqual([]);
    expect(staleTopics([t], new Map([[t, 5]]), bounds(undefined, 0))).toEqual([]);
    expect(staleTopics([t], new Map([[t, 0]]), bounds(1, 20_000))).toEqual([]);
  });

  it('reason_codes lists each reason once, in topic order; topics that are not stale are left out', () => {
    const oldest: Record<string, number> = {
      'runtime.notifications': 1,
      'runtime.run_summaries': 10,
      'runtime.codex_worker_events': 1,
      'runtime.codex_worker_summaries': 1,
    };
    const resume = new Map([
      ['runtime.notifications', 100],
      ['runtime.run_summaries', 1],
      ['runtime.codex_worker_events', 0],
      ['runtime.codex_worker_summaries', 3990],
    ]);
    const stale = staleTopics([...resume.keys()], resume, { oldest: (t) => oldest[t], head: () => 4000 });
    expect(staleCursorPayload(stale).reason_codes).toEqual([
      'replay_budget_exceeded',
      'retention_floor_breach',
    ]);
    expect(stale.map((s) => [s.topic, s.reason])).toEqual([
      ['runtime.notifications', 'replay_budget_exceeded'],
      ['runtime.run_summaries', 'retention_floor_breach'],
      ['runtime.codex_worker_events', 'replay_budget_exceeded'],
    ]);
    expect(staleCursorPayload(stale).message).toBe('cursor is older than retention floor');
  });
});
