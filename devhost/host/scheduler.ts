/**
 * Scheduled reducers (host spec §2.7, `crates/core/src/host/scheduler.rs`): a row in a schedule table
 * arms a timer; when it fires the row is looked up again (gone → skipped), its reducer runs with the row
 * as argument and the database identity as sender; a `Time` row is then deleted, an `Interval` row is
 * re-armed at the next tick after now, anchored at the intended time.
 */
import type { TableSchema } from '../contract.js';

export type ScheduleAt =
  | { readonly kind: 'interval'; readonly micros: bigint }
  | { readonly kind: 'time'; readonly micros: bigint };

export interface ScheduledRow {
  readonly table: TableSchema;
  /** BSATN of the u64 id column: the key the row is looked up by when the timer fires. */
  readonly idBytes: Uint8Array;
  readonly at: ScheduleAt;
}

export interface SchedulerHost {
  now(): bigint;
  /**
   * Queue the firing as a transaction; resolves after the reducer (and any cleanup) ran, with
   * whether the row still exists (an interval row that was deleted stops ticking).
   */
  fire(row: ScheduledRow, intended: bigint): Promise<boolean>;
}

/** `next_interval_tick_after`: first `intended + k*interval` strictly after `now`. */
export function nextIntervalTick(intended: bigint, interval: bigint, now: bigint): bigint {
  const step = interval < 0n ? -interval : interval;
  if (step === 0n) return now;
  if (intended > now) return intended;
  return intended + ((now - intended) / step + 1n) * step;
}

export class Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly host: SchedulerHost) {}

  private static key(row: ScheduledRow): string {
    return `${row.table.tableId}:${Buffer.from(row.idBytes).toString('hex')}`;
  }

  /** Arm (or re-arm) the timer for a row inserted or updated by a committed transaction. */
  schedule(row: ScheduledRow, insertedAt: bigint): void {
    const intended =
      row.at.kind === 'time'
        ? row.at.micros
        : insertedAt + (row.at.micros < 0n ? -row.at.micros : row.at.micros);
    this.armAt(row, intended);
  }

  /** A deleted row's timer would find nothing; drop it early. */
  cancel(row: Pick<ScheduledRow, 'table' | 'idBytes'>): void {
    const key = Scheduler.key(row as ScheduledRow);
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  private armAt(row: ScheduledRow, intended: bigint): void {
    if (this.closed) return;
    const key = Scheduler.key(row);
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const delayMs = Math.max(0, Number(intended - this.host.now()) / 1000);
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        void this.host.fire(row, intended).then((present) => {
          if (present && row.at.kind === 'interval' && !this.timers.has(key)) {
            this.armAt(row, nextIntervalTick(intended, row.at.micros, this.host.now()));
          }
        });
      },
      Math.min(delayMs, 2 ** 31 - 1),
    );
    this.timers.set(key, timer);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
