/**
 * Schedule tables wired to the Scheduler: a committed insert arms a timer, a delete cancels it, and a
 * firing runs the row's reducer as its own transaction on the database's queue, with the database
 * identity as sender and the row as argument. A `Time` row is deleted after it ran, in a transaction of
 * its own; an `Interval` row keeps ticking while it exists (host spec §2.7).
 */
import type { Caller, TableSchema, Typespace } from '../contract.js';
import type { HostModuleSchema } from '../schema/index.js';
import { columnBounds } from '../store/bsatn-layout.js';
import type { TableChanges } from '../store/datastore.js';
import { readLe } from './le-bytes.js';
import { type ScheduleAt, type ScheduledRow, Scheduler } from './scheduler.js';
import { oneRowArray } from './st-client.js';
import type { LogLevel } from './sys-abi.js';
import { type TxEngine, transact } from './transaction.js';
import type { TxClock } from './tx-clock.js';
import type { TxQueue } from './tx-queue.js';

/** The id (lookup key) and `ScheduleAt` of a schedule table's row. */
export function parseScheduledRow(table: TableSchema, typespace: Typespace, row: Uint8Array): ScheduledRow {
  const sched = table.schedule as NonNullable<TableSchema['schedule']>;
  const b = columnBounds(table.rowType, typespace, row);
  const idBytes = row.slice(b[sched.idCol], b[sched.idCol + 1]);
  const atStart = b[sched.scheduleAtCol] as number;
  // ScheduleAt is a sum: tag 0 Interval(TimeDuration), 1 Time(Timestamp), both an i64 of micros.
  const micros = BigInt.asIntN(64, readLe(row, atStart + 1, 8));
  const at: ScheduleAt = row[atStart] === 0 ? { kind: 'interval', micros } : { kind: 'time', micros };
  return { table, idBytes, at };
}

export interface ScheduledReducersOptions {
  readonly schema: HostModuleSchema;
  readonly engine: TxEngine;
  readonly clock: TxClock;
  readonly queue: TxQueue;
  /** Sender of scheduled reducers: the database identity. */
  readonly system: Caller;
  readonly log: (level: LogLevel, message: string) => void;
}

export class ScheduledReducers {
  private readonly scheduler: Scheduler;
  private closed = false;

  constructor(private readonly options: ScheduledReducersOptions) {
    this.scheduler = new Scheduler({
      now: options.clock,
      fire: (row, intended) => options.queue.run(() => this.fire(row, intended)),
    });
  }

  /** A transaction committed: follow its schedule-table changes. */
  follow(changes: readonly TableChanges[], timestamp: bigint): void {
    const { typespace } = this.options.schema;
    for (const change of changes) {
      if (!change.table.schedule) continue;
      for (const row of change.deletes)
        this.scheduler.cancel(parseScheduledRow(change.table, typespace, row));
      for (const row of change.inserts)
        this.scheduler.schedule(parseScheduledRow(change.table, typespace, row), timestamp);
    }
  }

  /** On start: arm every row the schedule tables hold. */
  armCommitted(): void {
    const { schema, engine, clock } = this.options;
    for (const table of schema.tables.filter((t) => t.schedule))
      for (const row of engine.store.committedRows(table.tableId))
        this.scheduler.schedule(parseScheduledRow(table, schema.typespace, row), clock());
  }

  close(): void {
    this.closed = true;
    this.scheduler.close();
  }

  /** Runs a due row; whether it still exists afterwards (an interval row then ticks again). */
  private fire(row: ScheduledRow, intended: bigint): boolean {
    if (this.closed) return false;
    const { schema, engine, clock, system, log } = this.options;
    const table = engine.store.table(row.table.tableId);
    const sched = row.table.schedule as NonNullable<TableSchema['schedule']>;
    const ptr = table.findUnique([sched.idCol], row.idBytes);
    if (ptr === undefined) return false;
    const current = table.rows.get(ptr) as Uint8Array;
    const reducer = schema.reducerByName(sched.reducer);
    if (!reducer) return false;
    const t = clock();
    const outcome = transact(engine, reducer, current, system, t > intended ? t : intended, false);
    if (outcome.kind !== 'committed')
      log('warn', `scheduled reducer ${reducer.name} failed: ${outcome.message}`);
    if (row.at.kind === 'time') {
      const again = table.findUnique([sched.idCol], row.idBytes);
      if (again !== undefined) {
        engine.store.begin();
        engine.store.deleteAllByEq(row.table.tableId, oneRowArray(table.rows.get(again) as Uint8Array));
        engine.commits.commit(clock());
      }
      return false;
    }
    return table.findUnique([sched.idCol], row.idBytes) !== undefined;
  }
}
