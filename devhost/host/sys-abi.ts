/**
 * devhost's implementation of `spacetime:sys@2.0` / `@2.1` (host spec §2.2): the functions the module's
 * server library calls into. Each one checks its arguments, calls the datastore, and turns a
 * `HostError` into the module's own error class for that errno, exactly where the real host would.
 */
import type { ModuleHooks, SysV20, SysV21 } from '../loader/index.js';
import type { HostModuleSchema } from '../schema/index.js';
import type { Datastore } from '../store/datastore.js';
import { Errno, type ErrnoCode, HostError } from '../store/errno.js';

/** Rows materialised at scan time, handed out in as many whole rows as fit (spec §2.4). */
interface RowIter {
  readonly rows: readonly Uint8Array[];
  next: number;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'panic';
const LEVELS: Record<number, LogLevel> = {
  0: 'error',
  1: 'warn',
  2: 'info',
  3: 'debug',
  4: 'trace',
  101: 'panic',
};

export interface SysEnvironment {
  readonly schema: HostModuleSchema;
  readonly store: Datastore;
  /** Set once the module is evaluated; error classes come from it. */
  hooks(): ModuleHooks;
  databaseIdentity(): bigint;
  jwtPayload(connectionId: bigint): string | undefined;
  scheduleImmediate(reducer: string, args: Uint8Array): void;
  log(level: LogLevel, message: string): void;
}

function view(buf: unknown, offset: number, len: number): Uint8Array {
  // The module's ArrayBuffer comes from another realm: `instanceof` fails, byteLength does not.
  const ab = buf as ArrayBuffer;
  if (typeof ab?.byteLength !== 'number') throw new TypeError('expected an ArrayBuffer');
  if (!Number.isInteger(len) || len < 0 || offset + len > ab.byteLength) {
    throw new RangeError('length argument was out of bounds for `ArrayBuffer`');
  }
  return new Uint8Array(ab, offset, len);
}

function u32(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new TypeError(`${what} must be a u32`);
  return value;
}

export function createSys(env: SysEnvironment): { v2_0: SysV20; v2_1: SysV21 } {
  const iters = new Map<number, RowIter>();
  let nextIter = 1;
  const timers = new Map<number, { name: string; start: number }>();
  let nextTimer = 1;

  const fail = (code: ErrnoCode, message?: string): never => {
    const Ctor = env.hooks().errorConstructor(code);
    throw new Ctor(message ?? new HostError(code).strerror);
  };
  /** Runs a datastore call, translating host errors the way `with_sys_result` does. */
  const sys = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof HostError) {
        if (
          e.errno !== Errno.NOT_IN_TRANSACTION &&
          e.errno !== Errno.NO_SUCH_TABLE &&
          e.errno !== Errno.NO_SUCH_INDEX
        )
          env.log('debug', `devhost: ${e.message}`);
        return fail(e.errno);
      }
      throw e;
    }
  };
  const tx = (): void => {
    if (!env.store.inTransaction) fail(Errno.NOT_IN_TRANSACTION);
  };
  const openIter = (rows: Uint8Array[]): number => {
    const id = nextIter++;
    iters.set(id, { rows, next: 0 });
    return id;
  };
  const rangeArgs = (buf: unknown, prefixLen: unknown, startLen: unknown, endLen: unknown) => {
    const p = u32(prefixLen, 'prefix_len');
    const s = u32(startLen, 'rstart_len');
    const e = u32(endLen, 'rend_len');
    const prefix = view(buf, 0, p);
    const start = view(buf, p, s);
    // `rend_len == 0` means the end bound equals the start bound (spec §2.3).
    const end = e === 0 ? start : view(buf, p + s, e);
    return { prefix, start, end };
  };

  const v2_0: SysV20 = {
    table_id_from_name(name: unknown) {
      tx();
      const table = env.schema.tableByName(String(name));
      return table ? table.tableId : fail(Errno.NO_SUCH_TABLE);
    },
    index_id_from_name(name: unknown) {
      tx();
      const n = String(name);
      for (const t of env.schema.tables)
        for (const ix of t.indexes) if (ix.name === n || ix.sourceName === n) return ix.indexId;
      return fail(Errno.NO_SUCH_INDEX);
    },
    datastore_table_row_count(tableId: unknown) {
      return sys(() => BigInt(env.store.rowCount(u32(tableId, 'table_id'))));
    },
    datastore_table_scan_bsatn(tableId: unknown) {
      return sys(() => openIter(env.store.scan(u32(tableId, 'table_id'))));
    },
    datastore_index_scan_point_bsatn(indexId: unknown, buf: unknown, len: unknown) {
      return sys(() =>
        openIter(env.store.scanPoint(u32(indexId, 'index_id'), view(buf, 0, u32(len, 'point_len')))),
      );
    },
    datastore_index_scan_range_bsatn(
      indexId: unknown,
      buf: unknown,
      prefixLen: unknown,
      prefixElems: unknown,
      startLen: unknown,
      endLen: unknown,
    ) {
      const { prefix, start, end } = rangeArgs(buf, prefixLen, startLen, endLen);
      return sys(() =>
        openIter(
          env.store.scanRange(u32(indexId, 'index_id'), prefix, u32(prefixElems, 'prefix_elems'), start, end),
        ),
      );
    },
    row_iter_bsatn_advance(iterId: unknown, buf: unknown) {
      const id = u32(iterId, 'iter');
      const it = iters.get(id);
      if (!it) return fail(Errno.NO_SUCH_ITER);
      const out = view(buf, 0, (buf as ArrayBuffer).byteLength);
      let written = 0;
      while (it.next < it.rows.length) {
        const row = it.rows[it.next] as Uint8Array;
        if (written + row.length > out.length) break;
        out.set(row, written);
        written += row.length;
        it.next++;
      }
      if (it.next < it.rows.length) {
        if (written === 0) throw { __buffer_too_small__: (it.rows[it.next] as Uint8Array).length };
        return written;
      }
      iters.delete(id);
      return -written;
    },
    row_iter_bsatn_close(iterId: unknown) {
      const id = u32(iterId, 'iter');
      if (!iters.delete(id)) fail(Errno.NO_SUCH_ITER);
    },
    datastore_insert_bsatn(tableId: unknown, buf: unknown, len: unknown) {
      const input = view(buf, 0, u32(len, 'row_len'));
      // The datastore copies what it stores; the view is read during the call only.
      const { generated } = sys(() => env.store.insert(u32(tableId, 'table_id'), input));
      input.set(generated, 0);
      return generated.length;
    },
    datastore_update_bsatn(tableId: unknown, indexId: unknown, buf: unknown, len: unknown) {
      const input = view(buf, 0, u32(len, 'row_len'));
      const { generated } = sys(() =>
        env.store.update(u32(tableId, 'table_id'), u32(indexId, 'index_id'), input),
      );
      input.set(generated, 0);
      return generated.length;
    },
    datastore_delete_by_index_scan_point_bsatn(indexId: unknown, buf: unknown, len: unknown) {
      return sys(() =>
        env.store.deleteByPoint(u32(indexId, 'index_id'), view(buf, 0, u32(len, 'point_len'))),
      );
    },
    datastore_delete_by_index_scan_range_bsatn(
      indexId: unknown,
      buf: unknown,
      prefixLen: unknown,
      prefixElems: unknown,
      startLen: unknown,
      endLen: unknown,
    ) {
      const { prefix, start, end } = rangeArgs(buf, prefixLen, startLen, endLen);
      return sys(() =>
        env.store.deleteByRange(
          u32(indexId, 'index_id'),
          prefix,
          u32(prefixElems, 'prefix_elems'),
          start,
          end,
        ),
      );
    },
    datastore_delete_all_by_eq_bsatn(tableId: unknown, buf: unknown, len: unknown) {
      return sys(() =>
        env.store.deleteAllByEq(u32(tableId, 'table_id'), view(buf, 0, u32(len, 'relation_len')).slice()),
      );
    },
    volatile_nonatomic_schedule_immediate(name: unknown, args: unknown) {
      const bytes = args as Uint8Array;
      env.scheduleImmediate(
        String(name),
        new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice(),
      );
    },
    console_log(level: unknown, message: unknown) {
      env.log(LEVELS[Number(level)] ?? 'info', String(message));
    },
    console_timer_start(name: unknown) {
      const id = nextTimer++;
      timers.set(id, { name: String(name), start: performance.now() });
      return id;
    },
    console_timer_end(id: unknown) {
      const timer = timers.get(u32(id, 'span_id'));
      if (!timer) return fail(Errno.NO_SUCH_CONSOLE_TIMER);
      timers.delete(u32(id, 'span_id'));
      env.log('info', `Timing span "${timer.name}": ${(performance.now() - timer.start).toFixed(3)}ms`);
      return undefined;
    },
    identity() {
      return env.databaseIdentity();
    },
    get_jwt_payload(connectionId: unknown) {
      tx();
      const payload = env.jwtPayload(BigInt(connectionId as bigint));
      return payload === undefined ? new Uint8Array(0) : new TextEncoder().encode(payload);
    },
    // Procedures and outbound HTTP run outside reducers; devhost hosts reducers only.
    procedure_http_request() {
      return fail(Errno.WOULD_BLOCK_TRANSACTION, 'devhost does not run procedures');
    },
    procedure_start_mut_tx() {
      return fail(Errno.WOULD_BLOCK_TRANSACTION, 'devhost does not run procedures');
    },
    procedure_commit_mut_tx() {
      return fail(Errno.TRANSACTION_NOT_ANONYMOUS);
    },
    procedure_abort_mut_tx() {
      return fail(Errno.TRANSACTION_NOT_ANONYMOUS);
    },
  };
  const v2_1: SysV21 = {
    datastore_clear(tableId: unknown) {
      return sys(() => BigInt(env.store.clear(u32(tableId, 'table_id'))));
    },
  };
  return { v2_0, v2_1 };
}
