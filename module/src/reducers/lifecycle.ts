/** init, client_connected/client_disconnected (token sessions) and the maintenance timer (presence expiry, retention, bridge outbox pruning). */
import { ScheduleAt } from 'spacetimedb';
import { fail } from '../logic/fail.ts';
import spacetimedb, { maintenance_schedule, WRITER_SCOPE } from '../schema.ts';
import { pruneBridgeOutbox } from './bridge.ts';
import { compactStream } from './stream-admin.ts';
import { closeTokenSession, openTokenSession } from './tokens.ts';

/** How often expired presence is swept and retention applied. */
const MAINTENANCE_INTERVAL_MICROS = 5_000_000n;

export const init = spacetimedb.init((ctx) => {
  // The publisher (database owner) is the first writer; it grants the adapter's identity later.
  ctx.db.sync_writer.insert({
    identity: ctx.sender,
    label: 'owner',
    granted_at: ctx.timestamp,
    scope: WRITER_SCOPE,
  });
  ctx.db.maintenance_schedule.insert({
    scheduled_id: 0n,
    scheduled_at: ScheduleAt.interval(MAINTENANCE_INTERVAL_MICROS),
  });
});

export const client_connected = spacetimedb.clientConnected((ctx) => openTokenSession(ctx));

export const client_disconnected = spacetimedb.clientDisconnected((ctx) => {
  if (!ctx.connectionId) return;
  closeTokenSession(ctx);
  for (const p of [...ctx.db.session_presence.identity.filter(ctx.sender)]) {
    if (p.connection_id?.isEqual(ctx.connectionId)) ctx.db.session_presence.session_id.delete(p.session_id);
  }
});

export const run_maintenance = spacetimedb.reducer(
  { name: 'run_maintenance', onSchedule: maintenance_schedule },
  { arg: maintenance_schedule.rowType },
  (ctx) => {
    // Hosts refuse clients a scheduled reducer (SpacetimeDB 2; devhost answers "no such reducer");
    // should one not, only the schedule (the database's own identity) runs it, or anyone could make
    // every stream compact on demand.
    if (!ctx.sender.isEqual(ctx.identity))
      throw fail('unauthorized', 'run_maintenance runs on its schedule only', {
        action: 'run maintenance',
        resource: '',
      });
    const now = ctx.timestamp.microsSinceUnixEpoch;
    for (const p of [...ctx.db.session_presence.iter()]) {
      if (p.expires_at.microsSinceUnixEpoch <= now) ctx.db.session_presence.session_id.delete(p.session_id);
    }
    for (const s of [...ctx.db.sync_stream.iter()]) {
      if (s.retain_min_events > 0n) compactStream(ctx, s.stream_id);
    }
    pruneBridgeOutbox(ctx);
  },
);
