/**
 * The bridge outbox to external mirrors (Nostr relays). These reducers never touch sync_event or
 * sync_stream, and the sync reducers never read the bridge tables, so a failing mirror can't block or
 * roll back appends.
 *
 * Writers enqueue and administer; a bridge worker (an identity granted a target) reports what each
 * relay answered. The rules for an answer are in `logic/bridge-plan.ts`.
 */

import type { Identity } from 'spacetimedb';
import { t } from 'spacetimedb/server';
import { bytesEqual } from '../logic/append-plan.ts';
import { requireWriter } from '../logic/auth.ts';
import {
  applyAnswer,
  type DeliveryState,
  type DeliveryStatus,
  isPrunable,
  NEW_DELIVERY,
  outboxStatus,
} from '../logic/bridge-plan.ts';
import { fail } from '../logic/fail.ts';
import spacetimedb from '../schema.ts';

type Ctx = Parameters<Parameters<typeof spacetimedb.reducer>[1]>[0];
type OutboxRow = NonNullable<ReturnType<Ctx['db']['bridge_outbox']['bridge_key']['find']>>;

const MAX_KEY = 256;
const MAX_REASON = 512;
const MAX_RELAYS = 32;
/** Sent rows are kept this long unless `configure_bridge` says otherwise. */
export const DEFAULT_SENT_RETENTION_MICROS = 7n * 24n * 3600n * 1_000_000n;

const invalid = (field: string, detail: string, rule_id = 'bounds') =>
  fail('invalid', detail, { field, rule_id });

function requireBridgeWorker(ctx: Ctx, sender: Identity, target: string): void {
  for (const w of ctx.db.bridge_worker.by_identity_target.filter([sender, target])) {
    if (w.target === target) return;
  }
  throw fail('unauthorized', `${sender.toHexString()} is not a bridge worker for '${target}'`, {
    action: 'record bridge deliveries',
    resource: target,
  });
}

export const enqueue_bridge_event = spacetimedb.reducer(
  {
    bridge_key: t.string(),
    stream_id: t.string(),
    seq: t.u64(),
    target: t.string(),
    kind: t.u32(),
    payload: t.byteArray(),
    max_attempts: t.u32(),
  },
  (ctx, args) => {
    requireWriter(ctx.db, ctx.sender, 'enqueue bridge events');
    if (args.bridge_key.length === 0 || args.bridge_key.length > MAX_KEY)
      throw invalid('bridge_key', 'bridge_key must be 1..256 characters');
    if (args.target.length === 0 || args.target.length > MAX_KEY)
      throw invalid('target', 'target must be 1..256 characters');
    if (args.max_attempts === 0) throw invalid('max_attempts', 'max_attempts must be at least 1', 'required');
    if (args.kind > 65_535) throw invalid('kind', 'kind must be a Nostr kind (0..65535)');
    const existing = ctx.db.bridge_outbox.bridge_key.find(args.bridge_key);
    if (existing) {
      const same =
        existing.stream_id === args.stream_id &&
        existing.seq === args.seq &&
        existing.target === args.target &&
        existing.kind === args.kind &&
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
      last_error: undefined,
      created_at: ctx.timestamp,
      updated_at: ctx.timestamp,
    });
  },
);

/** What one relay answered about one event. */
export const BridgeReport = t.object('BridgeReport', {
  bridge_key: t.string(),
  relay: t.string(),
  /** `OK true` (including the relay's `duplicate:`); false for `OK false`. */
  accepted: t.bool(),
  /** The relay's message (the refusal reason when not accepted). */
  message: t.string(),
  /** The Nostr event id (hex) the relay answered about. */
  event_id: t.string(),
});

type Report = Parameters<typeof BridgeReport.serialize>[1];

function deliveriesOf(ctx: Ctx, outboxId: bigint) {
  return [...ctx.db.bridge_delivery.by_outbox_relay.filter(outboxId)];
}

type DeliveryRow = ReturnType<typeof deliveriesOf>[number];

/**
 * Applies one relay's answer to the row's delivery for that relay. `deliveries` is the row's
 * deliveries by relay, read once per row and kept current here, so the status that follows needs no
 * second read.
 */
function recordOne(
  ctx: Ctx,
  row: OutboxRow,
  deliveries: Map<string, DeliveryRow>,
  report: Report,
): OutboxRow {
  const existing = deliveries.get(report.relay);
  const before: DeliveryState = existing
    ? {
        status: existing.status as DeliveryStatus,
        attempts: existing.attempts,
        lastError: existing.last_error,
      }
    : NEW_DELIVERY;
  const reason = report.message.slice(0, MAX_REASON) || 'refused without a reason';
  const after = applyAnswer(
    before,
    report.accepted ? { accepted: true } : { accepted: false, reason },
    row.max_attempts,
  );
  if (existing && after === before) return row;
  const fields = {
    outbox_id: row.outbox_id,
    target: row.target,
    relay: report.relay,
    status: after.status,
    attempts: after.attempts,
    last_error: after.lastError,
    event_id: report.event_id,
    updated_at: ctx.timestamp,
  };
  deliveries.set(
    report.relay,
    existing
      ? ctx.db.bridge_delivery.delivery_id.update({ ...existing, ...fields })
      : ctx.db.bridge_delivery.insert({ delivery_id: 0n, ...fields }),
  );
  if (report.accepted || after === before) return row;
  return ctx.db.bridge_outbox.outbox_id.update({
    ...row,
    attempts: row.attempts + 1,
    last_error: `${report.relay}: ${reason}`,
    updated_at: ctx.timestamp,
  });
}

/** The row's status over the configured relays, written only when it changed. */
function settle(
  ctx: Ctx,
  row: OutboxRow,
  deliveries: Map<string, DeliveryRow>,
  relays: readonly string[],
): void {
  const statuses = new Map([...deliveries].map(([relay, d]) => [relay, d.status as DeliveryStatus]));
  const status = outboxStatus(relays, statuses);
  if (status !== row.status) {
    ctx.db.bridge_outbox.outbox_id.update({ ...row, status, updated_at: ctx.timestamp });
  }
}

/**
 * A bridge worker reports relay answers, batched. `relays` is the worker's whole configured relay
 * list: the row is sent once every one of them has it. A report about a row that no longer exists
 * (pruned after every relay had it) changes nothing.
 */
export const record_bridge_deliveries = spacetimedb.reducer(
  { target: t.string(), relays: t.array(t.string()), reports: t.array(BridgeReport) },
  (ctx, { target, relays, reports }) => {
    requireBridgeWorker(ctx, ctx.sender, target);
    if (relays.length === 0 || relays.length > MAX_RELAYS)
      throw invalid('relays', `relays must list 1..${MAX_RELAYS} relays`);
    if (relays.some((r) => r.length === 0 || r.length > MAX_KEY))
      throw invalid('relays', 'relay labels must be 1..256 characters');
    const configured = new Set(relays);
    // Each touched row with its deliveries by relay, read once: several answers about one row (one
    // per relay) share the read, and its status is computed from what they left.
    const touched = new Map<string, { row: OutboxRow; deliveries: Map<string, DeliveryRow> }>();
    for (const report of reports) {
      if (!configured.has(report.relay))
        throw invalid(
          'reports.relay',
          `relay '${report.relay}' is not in the configured relays`,
          'configured',
        );
      let entry = touched.get(report.bridge_key);
      if (!entry) {
        const row = ctx.db.bridge_outbox.bridge_key.find(report.bridge_key);
        if (!row) continue;
        entry = { row, deliveries: new Map(deliveriesOf(ctx, row.outbox_id).map((d) => [d.relay, d])) };
        touched.set(report.bridge_key, entry);
      }
      const { row } = entry;
      if (row.target !== target) {
        throw fail('unauthorized', `bridge event '${report.bridge_key}' is not for target '${target}'`, {
          action: 'record bridge deliveries',
          resource: report.bridge_key,
        });
      }
      entry.row = recordOne(ctx, row, entry.deliveries, report);
    }
    for (const { row, deliveries } of touched.values()) settle(ctx, row, deliveries, relays);
  },
);

/** Operator: give a failed event's refused deliveries a fresh set of attempts. */
export const retry_bridge_event = spacetimedb.reducer({ bridge_key: t.string() }, (ctx, { bridge_key }) => {
  requireWriter(ctx.db, ctx.sender, 'retry bridge events');
  const row = ctx.db.bridge_outbox.bridge_key.find(bridge_key);
  if (!row) throw fail('unknown_stream', `no bridge event '${bridge_key}'`, { resource: bridge_key });
  if (row.status !== 'failed') {
    // Only a failed event can be reopened; a pending or sent one already stands.
    throw fail('conflict', `bridge event '${bridge_key}' is ${row.status}, not failed`, {
      stream_id: row.stream_id,
      idempotency_key: bridge_key,
      existing_seq: row.seq,
    });
  }
  for (const d of deliveriesOf(ctx, row.outbox_id)) {
    if (d.status === 'failed') {
      ctx.db.bridge_delivery.delivery_id.update({
        ...d,
        status: 'pending',
        attempts: 0,
        updated_at: ctx.timestamp,
      });
    }
  }
  ctx.db.bridge_outbox.outbox_id.update({ ...row, status: 'pending', updated_at: ctx.timestamp });
});

export const grant_bridge_worker = spacetimedb.reducer(
  { identity: t.identity(), target: t.string() },
  (ctx, { identity, target }) => {
    requireWriter(ctx.db, ctx.sender, 'grant bridge workers');
    if (target.length === 0 || target.length > MAX_KEY)
      throw invalid('target', 'target must be 1..256 characters');
    for (const w of ctx.db.bridge_worker.by_identity_target.filter([identity, target])) {
      if (w.target === target) return;
    }
    ctx.db.bridge_worker.insert({ worker_id: 0n, identity, target, granted_at: ctx.timestamp });
  },
);

export const revoke_bridge_worker = spacetimedb.reducer(
  { identity: t.identity(), target: t.string() },
  (ctx, { identity, target }) => {
    requireWriter(ctx.db, ctx.sender, 'revoke bridge workers');
    for (const w of [...ctx.db.bridge_worker.by_identity_target.filter([identity, target])]) {
      ctx.db.bridge_worker.worker_id.delete(w.worker_id);
    }
  },
);

/** How long sent rows stay in the outbox (and their deliveries) before maintenance prunes them. */
export const configure_bridge = spacetimedb.reducer(
  { sent_retention_seconds: t.u64() },
  (ctx, { sent_retention_seconds }) => {
    requireWriter(ctx.db, ctx.sender, 'configure the bridge');
    const row = {
      config_id: 0,
      sent_retention_micros: sent_retention_seconds * 1_000_000n,
      updated_at: ctx.timestamp,
    };
    if (ctx.db.bridge_config.config_id.find(0)) ctx.db.bridge_config.config_id.update(row);
    else ctx.db.bridge_config.insert(row);
  },
);

/** Run by the maintenance timer: drop sent rows older than the retention, with their deliveries. */
export function pruneBridgeOutbox(ctx: Ctx): void {
  const retention =
    ctx.db.bridge_config.config_id.find(0)?.sent_retention_micros ?? DEFAULT_SENT_RETENTION_MICROS;
  const now = ctx.timestamp.microsSinceUnixEpoch;
  for (const row of [...ctx.db.bridge_outbox.by_status.filter('sent')]) {
    if (!isPrunable(row.updated_at.microsSinceUnixEpoch, now, retention)) continue;
    for (const d of deliveriesOf(ctx, row.outbox_id))
      ctx.db.bridge_delivery.delivery_id.delete(d.delivery_id);
    ctx.db.bridge_outbox.outbox_id.delete(row.outbox_id);
  }
}
