/** Provider capability signalling and compute assignments, for collaboration clients. */
import { t } from 'spacetimedb/server';
import { requireWriter } from '../logic/auth.ts';
import { fail } from '../logic/fail.ts';
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
      throw fail('conflict', `request '${request_id}' is already open with other terms`, {
        stream_id: '',
        idempotency_key: request_id,
      });
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
      throw fail('invalid', `unknown assignment status '${status}'`, {
        field: 'status',
        rule_id: 'string.in',
      });
    }
    const row = ctx.db.compute_assignment.request_id.find(request_id);
    if (!row) throw fail('unknown_stream', `no compute request '${request_id}'`, { resource: request_id });
    if (row.revision !== expected_revision) {
      throw fail(
        'revision_mismatch',
        `request '${request_id}' is at revision ${row.revision}, not ${expected_revision}`,
        {
          resource: request_id,
          expected_revision,
          actual_revision: row.revision,
        },
      );
    }
    if (TERMINAL.has(row.status)) {
      // A finished request's state stands: a later update conflicts with it.
      throw fail('conflict', `request '${request_id}' is already ${row.status}`, {
        stream_id: '',
        idempotency_key: request_id,
      });
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
