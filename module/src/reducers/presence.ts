/** upsert_presence: a session's liveness with a TTL; expiry runs on the maintenance timer. */

import { Timestamp } from 'spacetimedb';
import { t } from 'spacetimedb/server';
import { fail } from '../logic/fail.ts';
import spacetimedb from '../schema.ts';

const MAX_TTL_MS = 10 * 60 * 1000;

export const upsert_presence = spacetimedb.reducer(
  {
    session_id: t.string(),
    device_id: t.string(),
    streams: t.array(t.string()),
    state: t.string(),
    ttl_ms: t.u32(),
  },
  (ctx, { session_id, device_id, streams, state, ttl_ms }) => {
    if (session_id.length === 0)
      throw fail('invalid', 'session_id is empty', { field: 'session_id', rule_id: 'string.min_len' });
    if (ttl_ms === 0 || ttl_ms > MAX_TTL_MS) {
      throw fail('invalid', `ttl_ms must be 1..${MAX_TTL_MS}`, { field: 'ttl_ms', rule_id: 'uint32.range' });
    }
    const existing = ctx.db.session_presence.session_id.find(session_id);
    if (existing && !existing.identity.isEqual(ctx.sender)) {
      throw fail('unauthorized', `session '${session_id}' belongs to another identity`, {
        action: 'update presence',
        resource: session_id,
      });
    }
    const row = {
      session_id,
      identity: ctx.sender,
      connection_id: ctx.connectionId ?? undefined,
      device_id,
      streams,
      state,
      last_seen: ctx.timestamp,
      expires_at: new Timestamp(ctx.timestamp.microsSinceUnixEpoch + BigInt(ttl_ms) * 1000n),
    };
    if (existing) ctx.db.session_presence.session_id.update(row);
    else ctx.db.session_presence.insert(row);
  },
);
