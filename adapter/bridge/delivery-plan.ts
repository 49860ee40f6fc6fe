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

/** What only this worker knows about one row at one relay. */
interface Work {
  /** Answered by the relay, report not yet committed: don't publish again meanwhile. */
  awaitingRecord: boolean;
  /** Published at least once by this process: a further publish counts as a retry. */
  attempted: boolean;
  /** A refused delivery is not due before this time (ms since the epoch); 0 when due. */
  retryAt: number;
}

export class DeliveryPlan {
  private readonly rows = new Map<bigint, PendingRow>();
  private readonly recorded = new Map<string, RecordedDelivery>();
  private readonly inFlight = new Set<string>();
  /** By row, then relay: a row that leaves drops its state in one step, whatever the outbox's depth. */
  private readonly work = new Map<bigint, Map<string, Work>>();
  /** The work items waiting out a refusal backoff (what nextRetryAt looks at, not every row). */
  private readonly backingOff = new Set<Work>();

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
    for (const w of this.work.get(outboxId)?.values() ?? []) this.backingOff.delete(w);
    this.work.delete(outboxId);
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

  private workOf(outboxId: bigint, relay: string): Work {
    let byRelay = this.work.get(outboxId);
    if (!byRelay) {
      byRelay = new Map();
      this.work.set(outboxId, byRelay);
    }
    let w = byRelay.get(relay);
    if (!w) {
      w = { awaitingRecord: false, attempted: false, retryAt: 0 };
      byRelay.set(relay, w);
    }
    return w;
  }

  /** Up to `limit` rows due at `relay` now, oldest outbox id first among those seen. */
  due(relay: string, now: number, limit: number): PendingRow[] {
    const out: PendingRow[] = [];
    if (limit <= 0) return out;
    for (const row of this.rows.values()) {
      const k = key(row.outboxId, relay);
      const status = this.recorded.get(k)?.status;
      if (status === 'sent' || status === 'failed') continue;
      if (this.inFlight.has(k)) continue;
      const w = this.work.get(row.outboxId)?.get(relay);
      if (w && (w.awaitingRecord || w.retryAt > now)) continue;
      out.push(row);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Marks a publish as started; true when this delivery was published before (a retry). */
  started(outboxId: bigint, relay: string): boolean {
    this.inFlight.add(key(outboxId, relay));
    const w = this.workOf(outboxId, relay);
    const retry = w.attempted;
    w.attempted = true;
    return retry;
  }

  /** The relay answered (accepted or refused): hold the delivery until the report is committed. */
  answered(outboxId: bigint, relay: string, refused: boolean, now: number): void {
    const k = key(outboxId, relay);
    this.inFlight.delete(k);
    if (!this.rows.has(outboxId)) return;
    const w = this.workOf(outboxId, relay);
    w.awaitingRecord = true;
    if (refused) {
      const refusals = (this.recorded.get(k)?.attempts ?? 0) + 1;
      w.retryAt = now + refusalDelay(refusals, this.random);
      this.backingOff.add(w);
    } else {
      w.retryAt = 0;
      this.backingOff.delete(w);
    }
  }

  /** No answer (relay down): the delivery is due again once the link is back. */
  unanswered(outboxId: bigint, relay: string): void {
    this.inFlight.delete(key(outboxId, relay));
  }

  /** The reports for these deliveries are committed; the module's rows now say what happened. */
  committed(deliveries: readonly { outboxId: bigint; relay: string }[]): void {
    for (const d of deliveries) {
      const w = this.work.get(d.outboxId)?.get(d.relay);
      if (w) w.awaitingRecord = false;
    }
  }

  /** Earliest time after `now` a refused delivery becomes due, if any is waiting. */
  nextRetryAt(now: number): number | undefined {
    let next: number | undefined;
    for (const w of this.backingOff) {
      if (w.retryAt <= now || w.awaitingRecord) continue;
      if (next === undefined || w.retryAt < next) next = w.retryAt;
    }
    return next;
  }
}
