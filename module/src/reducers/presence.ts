/** upsert_presence: a session's liveness with a TTL; expiry runs on the maintenance timer. */

import { Timestamp } from 'spacetimedb';
import { SenderError, t } from 'spacetimedb/server';
import { syncErrorMessage } from '../logic/sync-error.ts';
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
      throw new SenderError(syncErrorMessage('invalid_envelope', 'session_id is empty'));
    if (ttl_ms === 0 || ttl_ms > MAX_TTL_MS) {
      throw new SenderError(syncErrorMessage('invalid_envelope', `ttl_ms must be 1..${MAX_TTL_MS}`));
    }
    const existing = ctx.db.session_presence.session_id.find(session_id);
    if (existing && !existing.identity.isEqual(ctx.sender)) {
      throw new SenderError(
        syncErrorMessage('unauthorized', `session '${session_id}' belongs to another identity`),
      );
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
