/**
 * The host cut committed history away (an operator's `--truncate-corrupt` over a damaged commit log):
 * which streams lost events cannot be known (the damaged record is unreadable), and the cut streams'
 * seqs will be handed out again, so every stream moves to a new epoch and its clients rebootstrap
 * instead of resuming past a head that went backwards.
 */
import { requireWriter } from '../logic/auth.ts';
import spacetimedb from '../schema.ts';

export const note_history_cut = spacetimedb.reducer((ctx) => {
  requireWriter(ctx.db, ctx.sender, 'report a history cut');
  for (const s of [...ctx.db.sync_stream.iter()]) {
    ctx.db.sync_stream.stream_id.update({ ...s, epoch: s.epoch + 1n, updated_at: ctx.timestamp });
  }
});
