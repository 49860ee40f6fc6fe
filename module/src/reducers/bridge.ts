/**
 * The bridge outbox to the external mirror. Its reducers never touch sync_event or sync_stream, so a
 * failing mirror can't block or roll back appends.
 */

import { Timestamp } from 'spacetimedb';
import { t } from 'spacetimedb/server';
import { bytesEqual } from '../logic/append-plan.ts';
import { requireWriter } from '../logic/auth.ts';
import { fail } from '../logic/fail.ts';
import spacetimedb from '../schema.ts';

/** Capped exponential backoff between attempts: 1 s, 2 s, 4 s … at most 5 min. */
export function retryDelayMicros(attempts: number): bigint {
  const seconds = Math.min(300, 2 ** Math.max(0, attempts - 1));
  return BigInt(seconds) * 1_000_000n;
}

export const enqueue_bridge_event = spacetimedb.reducer(
  {
    bridge_key: t.string(),
    stream_id: t.string(),
    seq: t.u64(),
    target: t.string(),
    payload: t.byteArray(),
    max_attempts: t.u32(),
  },
  (ctx, args) => {
    requireWriter(ctx.db, ctx.sender, 'enqueue bridge events');
    if (args.bridge_key.length === 0 || args.target.length === 0 || args.max_attempts === 0) {
      throw fail('invalid', 'bridge_key, target and max_attempts are required', {
        field:
          args.bridge_key.length === 0 ? 'bridge_key' : args.target.length === 0 ? 'target' : 'max_attempts',
        rule_id: 'required',
      });
    }
    const existing = ctx.db.bridge_outbox.bridge_key.find(args.bridge_key);
    if (existing) {
      const same =
        existing.stream_id === args.stream_id &&
        existing.seq === args.seq &&
        existing.target === args.target &&
        bytesEqual(existing.payload, args.payload);
      if (same) return; // idempotent re-enqueue
      throw fail('conflict', `bridge key '${args.bridge_key}' holds a different event`, {
        stream_id: existing.stream_id,
        idempotency_key: args.bridge_key,
        existing_seq: existing.seq,
      });
    }
    ctx.db.bridge_outbox.insert({
      outbox_id: 0n,
      ...args,
      status: 'pending',
      attempts: 0,
      next_attempt_at: ctx.timestamp,
      last_error: undefined,
      created_at: ctx.timestamp,
      updated_at: ctx.timestamp,
    });
  },
);

/** Report one delivery attempt: success marks it sent (idempotently); failure schedules a retry. */
export const mark_bridge_event_sent = spacetimedb.reducer(
  { bridge_key: t.string(), success: t.bool(), error: t.option(t.string()) },
  (ctx, { bridge_key, success, error }) => {
    requireWriter(ctx.db, ctx.sender, 'report bridge deliveries');
    const row = ctx.db.bridge_outbox.bridge_key.find(bridge_key);
    if (!row) throw fail('unknown_stream', `no bridge event '${bridge_key}'`, { resource: bridge_key });
    if (row.status === 'sent') return; // a duplicate success report, or a late failure after success
    if (row.status === 'failed') {
      // Its final state stands: a later report conflicts with it.
      throw fail('conflict', `bridge event '${bridge_key}' already gave up`, {
        stream_id: row.stream_id,
        idempotency_key: bridge_key,
        existing_seq: row.seq,
      });
    }
    const attempts = row.attempts + 1;
    if (success) {
      ctx.db.bridge_outbox.outbox_id.update({
        ...row,
        status: 'sent',
        attempts,
        last_error: undefined,
        updated_at: ctx.timestamp,
      });
      return;
    }
    const exhausted = attempts >= row.max_attempts;
    ctx.db.bridge_outbox.outbox_id.update({
      ...row,
      status: exhausted ? 'failed' : 'pending',
      attempts,
      last_error: error ?? 'unspecified error',
      next_attempt_at: new Timestamp(ctx.timestamp.microsSinceUnixEpoch + retryDelayMicros(attempts)),
      updated_at: ctx.timestamp,
    });
  },
);
