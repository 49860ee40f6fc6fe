/**
 * The authority order of each (stream, authority topic) as the append reducer reads and advances it
 * (the decision itself is ../logic/append-plan.ts), and the writer's reducer bounding forward jumps.
 */
import { t } from 'spacetimedb/server';
import type { AuthorityOrder } from '../logic/append-plan.ts';
import { requireWriter } from '../logic/auth.ts';
import { fail } from '../logic/fail.ts';
import { contains, DEFAULT_MAX_FORWARD_JUMP, fillGap, MAX_OPEN_GAPS } from '../logic/source-gaps.ts';
import spacetimedb from '../schema.ts';

type Ctx = Parameters<Parameters<typeof spacetimedb.reducer>[1]>[0];

export interface SourceRef {
  readonly stream_id: string;
  readonly source_topic: string;
}

function sourceRow(ctx: Ctx, e: SourceRef) {
  for (const row of ctx.db.stream_source.by_stream_topic.filter([e.stream_id, e.source_topic])) return row;
  return undefined;
}

const gaps = (ctx: Ctx, e: SourceRef) => [
  ...ctx.db.source_gap.by_stream_topic.filter([e.stream_id, e.source_topic]),
];

export function maxForwardJump(ctx: Ctx): bigint {
  return ctx.db.source_policy.policy_id.find(0)?.max_forward_jump ?? DEFAULT_MAX_FORWARD_JUMP;
}

/**
 * What the append plan needs to know about the event's authority topic on its stream. Read only when
 * the plan asks: an event without an authority seq (0) never does, and these two index lookups were
 * 4% of a 100-event append call. A class, not an object literal with getters: the literal built two
 * accessors and two closures for every event of a batch.
 */
class SourceOrder implements AuthorityOrder {
  constructor(
    private readonly ctx: Ctx,
    private readonly e: SourceRef,
  ) {}
  get last_seq(): bigint {
    return sourceRow(this.ctx, this.e)?.last_seq ?? 0n;
  }
  get max_forward_jump(): bigint {
    return maxForwardJump(this.ctx);
  }
  holder(seq: bigint) {
    for (const row of this.ctx.db.sync_event.by_stream_source.filter([
      this.e.stream_id,
      this.e.source_topic,
      seq,
    ]))
      return row;
    return undefined;
  }
  in_open_gap(seq: bigint): boolean {
    return gaps(this.ctx, this.e).some((g) => contains({ from: g.from_seq, to: g.to_seq }, seq));
  }
}

export function authorityOrder(ctx: Ctx, e: SourceRef): AuthorityOrder {
  return new SourceOrder(ctx, e);
}

/** An event stepped the topic's order forward to `seq`, leaving `gap` (if any) open. */
export function advanceOrder(ctx: Ctx, e: SourceRef, seq: bigint, gap?: { from: bigint; to: bigint }): void {
  const row = sourceRow(ctx, e);
  if (row) ctx.db.stream_source.source_id.update({ ...row, last_seq: seq });
  else
    ctx.db.stream_source.insert({
      source_id: 0n,
      stream_id: e.stream_id,
      authority_topic: e.source_topic,
      last_seq: seq,
    });
  if (!gap) return;
  ctx.db.source_gap.insert({
    gap_id: 0n,
    stream_id: e.stream_id,
    authority_topic: e.source_topic,
    from_seq: gap.from,
    to_seq: gap.to,
  });
  const open = gaps(ctx, e);
  if (open.length <= MAX_OPEN_GAPS) return;
  const oldest = open.reduce((a, b) => (b.from_seq < a.from_seq ? b : a));
  ctx.db.source_gap.gap_id.delete(oldest.gap_id);
}

/** A late event filled `seq` inside an open gap: the gap shrinks or splits. */
export function fillOrder(ctx: Ctx, e: SourceRef, seq: bigint): void {
  const gap = gaps(ctx, e).find((g) => contains({ from: g.from_seq, to: g.to_seq }, seq));
  if (!gap) return;
  ctx.db.source_gap.gap_id.delete(gap.gap_id);
  for (const rest of fillGap({ from: gap.from_seq, to: gap.to_seq }, seq)) {
    ctx.db.source_gap.insert({ ...gap, gap_id: 0n, from_seq: rest.from, to_seq: rest.to });
  }
}

/** Writers bound how far one event may jump ahead of its topic's newest authority seq (at least 1). */
export const set_source_policy = spacetimedb.reducer(
  { max_forward_jump: t.u64() },
  (ctx, { max_forward_jump }) => {
    requireWriter(ctx.db, ctx.sender, 'set the source policy');
    if (max_forward_jump < 1n) {
      throw fail('invalid', 'max_forward_jump must be at least 1', {
        field: 'max_forward_jump',
        rule_id: 'uint64.gte',
      });
    }
    const row = { policy_id: 0, max_forward_jump, updated_at: ctx.timestamp };
    if (ctx.db.source_policy.policy_id.find(0)) ctx.db.source_policy.policy_id.update(row);
    else ctx.db.source_policy.insert(row);
  },
);
