/** Writer-only stream administration: retention policy, compaction, reset, and who may write. */
import { t } from 'spacetimedb/server';
import { mayRead, requireWriter } from '../logic/auth.ts';
import { fail } from '../logic/fail.ts';
import { planRetention } from '../logic/retention-plan.ts';
import spacetimedb, { WRITER_SCOPE } from '../schema.ts';

/** The label init gives the module owner's writer row (lifecycle.ts, logic/auth.ts). */
const OWNER_LABEL = 'owner';

type Ctx = Parameters<Parameters<typeof spacetimedb.reducer>[1]>[0];

function stream(ctx: Ctx, stream_id: string) {
  const row = ctx.db.sync_stream.stream_id.find(stream_id);
  if (!row) throw fail('unknown_stream', `no stream '${stream_id}'`, { resource: stream_id });
  return row;
}

/** Apply the stream's retention policy now. Also run for every stream by the maintenance timer. */
export function compactStream(ctx: Ctx, stream_id: string): void {
  const s = stream(ctx, stream_id);
  const events = [...ctx.db.sync_event.by_stream_seq.filter(stream_id)].sort((a, b) =>
    a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0,
  );
  // Only clients that may still read the stream hold its history back (a revoked reader does not).
  const acked = [...ctx.db.sync_checkpoint.iter()]
    .filter((c) => c.stream_id === stream_id && c.epoch === s.epoch && mayRead(ctx.db, c.owner, stream_id))
    .map((c) => c.acked_seq);
  const plan = planRetention(events, s.head_seq, s.low_watermark, s, acked);
  if (plan.deleteSeqs.length === 0) return;
  const doomed = new Set(plan.deleteSeqs);
  for (const e of events) if (doomed.has(e.seq)) ctx.db.sync_event.event_id.delete(e.event_id);
  ctx.db.sync_stream.stream_id.update({
    ...s,
    low_watermark: plan.lowWatermark,
    epoch: plan.bumpEpoch ? s.epoch + 1n : s.epoch,
    updated_at: ctx.timestamp,
  });
}

export const configure_stream = spacetimedb.reducer(
  { stream_id: t.string(), retain_min_events: t.u64(), compact_by_key: t.bool() },
  (ctx, { stream_id, retain_min_events, compact_by_key }) => {
    requireWriter(ctx.db, ctx.sender, 'configure streams');
    ctx.db.sync_stream.stream_id.update({
      ...stream(ctx, stream_id),
      retain_min_events,
      compact_by_key,
      updated_at: ctx.timestamp,
    });
  },
);

export const compact_stream = spacetimedb.reducer({ stream_id: t.string() }, (ctx, { stream_id }) => {
  requireWriter(ctx.db, ctx.sender, 'compact streams');
  compactStream(ctx, stream_id);
});

/** Drop a stream's history (restore/reset): every client must rebootstrap, so the epoch moves. */
export const reset_stream = spacetimedb.reducer({ stream_id: t.string() }, (ctx, { stream_id }) => {
  requireWriter(ctx.db, ctx.sender, 'reset streams');
  const s = stream(ctx, stream_id);
  for (const e of [...ctx.db.sync_event.by_stream_seq.filter(stream_id)])
    ctx.db.sync_event.event_id.delete(e.event_id);
  ctx.db.sync_stream.stream_id.update({
    ...s,
    low_watermark: s.head_seq + 1n,
    epoch: s.epoch + 1n,
    updated_at: ctx.timestamp,
  });
});

export const grant_writer = spacetimedb.reducer(
  { identity: t.identity(), label: t.string() },
  (ctx, { identity, label }) => {
    requireWriter(ctx.db, ctx.sender, 'grant write access');
    // 'owner' marks the module owner's row, which also makes it a cutover admin: a writer handing
    // it out would make any identity one.
    if (label === OWNER_LABEL)
      throw fail('invalid', `the label '${OWNER_LABEL}' is the module owner's`, {
        field: 'label',
        rule_id: 'writer.label_reserved',
      });
    if (ctx.db.sync_writer.identity.find(identity)) return;
    ctx.db.sync_writer.insert({ identity, label, granted_at: ctx.timestamp, scope: WRITER_SCOPE });
  },
);

export const revoke_writer = spacetimedb.reducer({ identity: t.identity() }, (ctx, { identity }) => {
  requireWriter(ctx.db, ctx.sender, 'revoke write access');
  if (identity.isEqual(ctx.sender)) {
    throw fail('invalid', 'a writer cannot revoke itself', { field: 'identity', rule_id: 'writer.not_self' });
  }
  if (ctx.db.sync_writer.identity.find(identity)?.label === OWNER_LABEL)
    throw fail('unauthorized', 'the module owner cannot be revoked', {
      action: 'revoke write access',
      resource: identity.toHexString(),
    });
  ctx.db.sync_writer.identity.delete(identity);
});

export const grant_stream_read = spacetimedb.reducer(
  { reader: t.identity(), stream_id: t.string() },
  (ctx, { reader, stream_id }) => {
    requireWriter(ctx.db, ctx.sender, 'grant read access');
    for (const _ of ctx.db.stream_grant.by_reader_stream.filter([reader, stream_id])) return;
    ctx.db.stream_grant.insert({ grant_id: 0n, reader, stream_id, granted_at: ctx.timestamp });
  },
);

/** Take a reader's access to a stream away: its rows disappear from that client's subscriptions. */
export const revoke_stream_read = spacetimedb.reducer(
  { reader: t.identity(), stream_id: t.string() },
  (ctx, { reader, stream_id }) => {
    requireWriter(ctx.db, ctx.sender, 'revoke read access');
    for (const g of [...ctx.db.stream_grant.by_reader_stream.filter([reader, stream_id])]) {
      ctx.db.stream_grant.grant_id.delete(g.grant_id);
    }
  },
);
