/** upsert_presence: a session's liveness with a TTL; expiry runs on the maintenance timer. */

import { Timestamp } from 'spacetimedb';
import { t } from 'spacetimedb/server';
import { fail } from '../logic/fail.ts';
import {
  MAX_CLIENT_ID,
  MAX_PRESENCE_STATE,
  MAX_PRESENCE_STREAMS,
  MAX_SESSIONS_PER_IDENTITY,
  MAX_STREAM_ID,
} from '../logic/limits.ts';
import spacetimedb from '../schema.ts';
import { requireLiveSession } from './tokens.ts';

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
    requireLiveSession(ctx, 'update presence');
    const tooLong = (field: string, value: string, max: number, min = 0) => {
      if (value.length < min || value.length > max)
        throw fail('invalid', `${field} must be ${min}..${max} characters`, {
          field,
          rule_id: 'string.len_range',
        });
    };
    tooLong('session_id', session_id, MAX_CLIENT_ID, 1);
    tooLong('device_id', device_id, MAX_CLIENT_ID);
    tooLong('state', state, MAX_PRESENCE_STATE);
    if (streams.length > MAX_PRESENCE_STREAMS)
      throw fail('invalid', `a presence row lists at most ${MAX_PRESENCE_STREAMS} streams`, {
        field: 'streams',
        rule_id: 'repeated.max_items',
      });
    for (const s of streams) tooLong('streams', s, MAX_STREAM_ID, 1);
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
    if (!existing) {
      let held = 0;
      for (const _ of ctx.db.session_presence.identity.filter(ctx.sender)) held++;
      if (held >= MAX_SESSIONS_PER_IDENTITY)
        throw fail('invalid', `an identity holds at most ${MAX_SESSIONS_PER_IDENTITY} presence sessions`, {
          field: 'session_id',
          rule_id: 'presence.per_identity_limit',
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
