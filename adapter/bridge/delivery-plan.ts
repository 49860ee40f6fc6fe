/**
 * Which outbox rows each relay should get next. The module's view (pending rows, recorded deliveries)
 * arrives through the worker's subscription; on top of it this keeps what only the worker knows:
 * what is awaiting a relay's answer, what was answered but not yet recorded, and when a refused
 * delivery may be tried again. Rows are independent: a relay that refuses or hangs on one row never
 * holds back another row, another kind, or another relay.
 */
import { backoffDelay } from '../../shared/backoff.js';
import type { OutboxEntry } from './nostr-event.js';

export interface PendingRow {
  readonly outboxId: bigint;
  readonly entry: OutboxEntry;
  readonly maxAttempts: number;
}

export interface RecordedDelivery {
  readonly status: string;
  readonly attempts: number;
}

/** Refused deliveries wait at least half the capped exponential ceiling ("equal jitter"): no retry storm. */
export const REFUSAL_BACKOFF = { baseMs: 1_000, capMs: 60_000 } as const;

export function refusalDelay(refusals: number, random: () => number = Math.random): number {
  const half = { baseMs: REFUSAL_BACKOFF.baseMs / 2, capMs: REFUSAL_BACKOFF.capMs / 2 };
  const attempt = Math.max(0, refusals - 1);
  return Math.min(half.capMs, half.baseMs * 2 ** Math.min(attempt, 30)) + backoffDelay(attempt, half, random);
}

const key = (outboxId: bigint, relay: string) => `${outboxId}|${relay}`;

export class DeliveryPlan {
  private readonly rows = new Map<bigint, PendingRow>();
  private readonly recorded = new Map<string, RecordedDelivery>();
  private readonly inFlight = new Set<string>();
  /** Answered by the relay, report not yet committed: don't publish again meanwhile. */
  private readonly awaitingRecord = new Set<string>();
  private readonly retryAt = new Map<string, number>();
  /** Deliveries published at least once by this process: a further publish counts as a retry. */
  private readonly attempted = new Set<string>();

  constructor(private readonly random: () => number = Math.random) {}

  get depth(): number {
    return this.rows.size;
  }

  /** Created-at of the oldest pending row, in microseconds since the epoch. */
  oldestPendingMicros(): bigint | undefined {
    let oldest: bigint | undefined;
    for (const r of this.rows.values()) {
      if (oldest === undefined || r.entry.createdAtMicros < oldest) oldest = r.entry.createdAtMicros;
    }
    return oldest;
  }

  has(outboxId: bigint): boolean {
    return this.rows.has(outboxId);
  }

  upsertRow(row: PendingRow): void {
    this.rows.set(row.outboxId, row);
  }

  removeRow(outboxId: bigint): void {
    this.rows.delete(outboxId);
    const prefix = `${outboxId}|`;
    for (const set of [this.awaitingRecord, this.attempted]) {
      for (const k of set) if (k.startsWith(prefix)) set.delete(k);
    }
    for (const k of this.retryAt.keys()) if (k.startsWith(prefix)) this.retryAt.delete(k);
  }

  /** The SpacetimeDB connection was lost: what it showed may be stale; the next subscription refills it. */
  forgetModuleView(): void {
    this.rows.clear();
    this.recorded.clear();
  }

  recordDelivery(outboxId: bigint, relay: string, d: RecordedDelivery): void {
    this.recorded.set(key(outboxId, relay), d);
  }

  forgetDelivery(outboxId: bigint, relay: string): void {
    this.recorded.delete(key(outboxId, relay));
  }

  /** Up to `limit` rows due at `relay` now, oldest outbox id first among those seen. */
  due(relay: string, now: number, limit: number): PendingRow[] {
    const out: PendingRow[] = [];
    if (limit <= 0) return out;
    for (const row of this.rows.values()) {
      const k = key(row.outboxId, relay);
      const status = this.recorded.get(k)?.status;
      if (status === 'sent' || status === 'failed') continue;
      if (this.inFlight.has(k) || this.awaitingRecord.has(k)) continue;
      if ((this.retryAt.get(k) ?? 0) > now) continue;
      out.push(row);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Marks a publish as started; true when this delivery was published before (a retry). */
  started(outboxId: bigint, relay: string): boolean {
    const k = key(outboxId, relay);
    this.inFlight.add(k);
    const retry = this.attempted.has(k);
    this.attempted.add(k);
    return retry;
  }

  /** The relay answered (accepted or refused): hold the delivery until the report is committed. */
  answered(outboxId: bigint, relay: string, refused: boolean, now: number): void {
    const k = key(outboxId, relay);
    this.inFlight.delete(k);
    if (!this.rows.has(outboxId)) return;
    this.awaitingRecord.add(k);
    if (refused) {
      const refusals = (this.recorded.get(k)?.attempts ?? 0) + 1;
      this.retryAt.set(k, now + refusalDelay(refusals, this.random));
    } else {
      this.retryAt.delete(k);
    }
  }

  /** No answer (relay down): the delivery is due again once the link is back. */
  unanswered(outboxId: bigint, relay: string): void {
    this.inFlight.delete(key(outboxId, relay));
  }

  /** The reports for these deliveries are committed; the module's rows now say what happened. */
  committed(deliveries: readonly { outboxId: bigint; relay: string }[]): void {
    for (const d of deliveries) this.awaitingRecord.delete(key(d.outboxId, d.relay));
  }

  /** Earliest time after `now` a refused delivery becomes due, if any is waiting. */
  nextRetryAt(now: number): number | undefined {
    let next: number | undefined;
    for (const [k, at] of this.retryAt) {
      if (at <= now || this.awaitingRecord.has(k)) continue;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }
}
