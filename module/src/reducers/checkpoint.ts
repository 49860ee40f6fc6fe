/**
 * ack_checkpoint: monotonic per (identity, client, stream), bounded by the head. Only an identity that
 * may read the stream acks it (so nobody else can hold back retention or force an epoch bump), and
 * each identity names its clients in its own namespace (nobody can squat another's client id).
 */
import { t } from 'spacetimedb/server';
import { requireReader } from '../logic/auth.ts';
import { fail } from '../logic/fail.ts';
import { MAX_CHECKPOINTS_PER_IDENTITY, MAX_CLIENT_ID } from '../logic/limits.ts';
import spacetimedb from '../schema.ts';
import { requireLiveSession } from './tokens.ts';

export const ack_checkpoint = spacetimedb.reducer(
  { client_id: t.string(), stream_id: t.string(), acked_seq: t.u64(), epoch: t.u64() },
  (ctx, { client_id, stream_id, acked_seq, epoch }) => {
    if (client_id.length === 0 || client_id.length > MAX_CLIENT_ID) {
      throw fail('invalid', `client_id must be 1..${MAX_CLIENT_ID} characters`, {
        field: 'client_id',
        rule_id: 'string.len_range',
      });
    }
    requireLiveSession(ctx, 'ack checkpoints');
    requireReader(ctx.db, ctx.sender, stream_id, 'ack checkpoints');
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
    for (const r of ctx.db.sync_checkpoint.by_owner_client_stream.filter([ctx.sender, client_id, stream_id]))
      row = r;
    if (!row) {
      let held = 0;
      for (const _ of ctx.db.sync_checkpoint.by_owner_client_stream.filter(ctx.sender)) held++;
      if (held >= MAX_CHECKPOINTS_PER_IDENTITY) {
        throw fail(
          'invalid',
          `an identity holds at most ${MAX_CHECKPOINTS_PER_IDENTITY} checkpoints (client, stream pairs)`,
          { field: 'client_id', rule_id: 'checkpoint.per_identity_limit' },
        );
      }
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
    // Monotonic: a late or reordered lower ack is accepted and ignored, never a regression.
    if (acked_seq > row.acked_seq || epoch !== row.epoch) {
      ctx.db.sync_checkpoint.checkpoint_id.update({ ...row, acked_seq, epoch, updated_at: ctx.timestamp });
    }
  },
);
