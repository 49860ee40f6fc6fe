/** Provider capability signalling and compute assignments, for collaboration clients. */
import { SenderError, t } from 'spacetimedb/server';
import { requireWriter } from '../logic/auth.ts';
import { syncErrorMessage } from '../logic/sync-error.ts';
import spacetimedb from '../schema.ts';

const ASSIGNMENT_STATES = new Set(['open', 'assigned', 'running', 'completed', 'failed', 'cancelled']);
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export const publish_provider_capability = spacetimedb.reducer(
  { provider_id: t.string(), capability: t.string(), metadata: t.string() },
  (ctx, { provider_id, capability, metadata }) => {
    requireWriter(ctx.db, ctx.sender, 'publish provider capabilities');
    const capability_id = `${provider_id}/${capability}`;
    const row = {
      capability_id,
      provider_id,
      capability,
      metadata,
      published_by: ctx.sender,
      updated_at: ctx.timestamp,
    };
    if (ctx.db.provider_capability.capability_id.find(capability_id))
      ctx.db.provider_capability.capability_id.update(row);
    else ctx.db.provider_capability.insert(row);
  },
);

export const open_compute_assignment = spacetimedb.reducer(
  { request_id: t.string(), provider_id: t.string(), detail: t.string() },
  (ctx, { request_id, provider_id, detail }) => {
    requireWriter(ctx.db, ctx.sender, 'open compute assignments');
    const existing = ctx.db.compute_assignment.request_id.find(request_id);
    if (existing) {
      if (existing.provider_id === provider_id && existing.detail === detail) return; // idempotent
      throw new SenderError(
        syncErrorMessage('conflict', `request '${request_id}' is already open with other terms`),
      );
    }
    ctx.db.compute_assignment.insert({
      request_id,
      provider_id,
      status: 'open',
      detail,
      revision: 1n,
      opened_by: ctx.sender,
      updated_at: ctx.timestamp,
    });
  },
);

/** Optimistic concurrency: the update names the revision it read, so two updaters can't overwrite each other. */
export const update_compute_assignment = spacetimedb.reducer(
  { request_id: t.string(), expected_revision: t.u64(), status: t.string(), detail: t.string() },
  (ctx, { request_id, expected_revision, status, detail }) => {
    requireWriter(ctx.db, ctx.sender, 'update compute assignments');
    if (!ASSIGNMENT_STATES.has(status)) {
      throw new SenderError(syncErrorMessage('invalid_envelope', `unknown assignment status '${status}'`));
    }
    const row = ctx.db.compute_assignment.request_id.find(request_id);
    if (!row) throw new SenderError(syncErrorMessage('unknown_stream', `no compute request '${request_id}'`));
    if (row.revision !== expected_revision) {
      throw new SenderError(
        syncErrorMessage(
          'revision_mismatch',
          `request '${request_id}' is at revision ${row.revision}, not ${expected_revision}`,
        ),
      );
    }
    if (TERMINAL.has(row.status)) {
      throw new SenderError(
        syncErrorMessage('stale_cursor', `request '${request_id}' is already ${row.status}`),
      );
    }
    ctx.db.compute_assignment.request_id.update({
      ...row,
      status,
      detail,
      revision: row.revision + 1n,
      updated_at: ctx.timestamp,
    });
  },
);
