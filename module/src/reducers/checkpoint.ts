/** ack_checkpoint: monotonic per (client, stream), bounded by the head, owned by one identity. */
import { t } from 'spacetimedb/server';
import { fail } from '../logic/fail.ts';
import spacetimedb from '../schema.ts';

export const ack_checkpoint = spacetimedb.reducer(
  { client_id: t.string(), stream_id: t.string(), acked_seq: t.u64(), epoch: t.u64() },
  (ctx, { client_id, stream_id, acked_seq, epoch }) => {
    if (client_id.length === 0)
      throw fail('invalid', 'client_id is empty', { field: 'client_id', rule_id: 'string.min_len' });
    const stream = ctx.db.sync_stream.stream_id.find(stream_id);
    if (!stream) throw fail('unknown_stream', `no stream '${stream_id}'`, { resource: stream_id });
    if (epoch !== stream.epoch) {
      throw fail(
        'stale_cursor',
        `stream '${stream_id}' is at epoch ${stream.epoch}, ack names epoch ${epoch}; low watermark ${stream.low_watermark}`,
        {
          stream_id,
          low_watermark: stream.low_watermark,
          epoch: stream.epoch,
          requested_epoch: epoch,
          requested_watermark: acked_seq,
        },
      );
    }
    if (acked_seq > stream.head_seq) {
      throw fail('beyond_head', `ack ${acked_seq} is beyond stream '${stream_id}' head ${stream.head_seq}`, {
        stream_id,
        seq: acked_seq,
        head: stream.head_seq,
      });
    }
    let row: ReturnType<typeof ctx.db.sync_checkpoint.insert> | undefined;
    for (const r of ctx.db.sync_checkpoint.by_client_stream.filter([client_id, stream_id])) row = r;
    if (!row) {
      ctx.db.sync_checkpoint.insert({
        checkpoint_id: 0n,
        client_id,
        owner: ctx.sender,
        stream_id,
        acked_seq,
        epoch,
        updated_at: ctx.timestamp,
      });
      return;
    }
    if (!row.owner.isEqual(ctx.sender)) {
      throw fail('unauthorized', `client '${client_id}' belongs to another identity`, {
        action: 'ack checkpoints',
        resource: client_id,
      });
    }
    // Monotonic: a late or reordered lower ack is accepted and ignored, never a regression.
    if (acked_seq > row.acked_seq || epoch !== row.epoch) {
      ctx.db.sync_checkpoint.checkpoint_id.update({ ...row, acked_seq, epoch, updated_at: ctx.timestamp });
    }
  },
);
