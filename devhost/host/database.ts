/**
 * One hosted database: the module evaluated once, its datastore, the transaction pipeline (reducer →
 * commit → log → listeners → scheduler), lifecycle reducers and recovery. Every transaction runs on
 * one queue, one at a time, like the real host's single JS worker (host spec §2.6, §1.7).
 */
import { randomBytes } from 'node:crypto';
import type { AlgebraicTypeType } from 'spacetimedb';
import type {
  Caller,
  CommittedTx,
  HostedDatabase,
  ReducerOutcome,
  ReducerSchema,
  TableDelta,
  TableSchema,
} from '../contract.js';
import { bundleModule, evaluateBundle, type ModuleHooks } from '../loader/index.js';
import { buildModuleSchema, decodeModuleDef, type HostModuleSchema } from '../schema/index.js';
import { columnBounds, validateExact } from '../store/bsatn-layout.js';
import { Datastore, type TableChanges } from '../store/datastore.js';
import {
  type DurabilityPort,
  type Image,
  inMemoryDurability,
  type LoggedMutations,
} from './durability-port.js';
import { type ScheduleAt, type ScheduledRow, Scheduler } from './scheduler.js';
import { createSys, type LogLevel } from './sys-abi.js';

/** What failed reducers show the caller unless they threw a SenderError (`handle_outer_error`). */
export const FATAL_ERROR_MESSAGE = 'The instance encountered a fatal error.';

/**
 * Connected clients, as the real host's `st_client` system table: written in the connect transaction,
 * deleted in the disconnect one, so a crash leaves rows whose disconnect runs on the next start.
 */
const ST_CLIENT_ID = 12;
const ST_CLIENT_ROW: AlgebraicTypeType = {
  tag: 'Product',
  value: {
    elements: [
      { name: 'identity', algebraicType: { tag: 'U256' } },
      { name: 'connection_id', algebraicType: { tag: 'U128' } },
    ],
  },
};
const ST_CLIENT: TableSchema = {
  tableId: ST_CLIENT_ID,
  name: 'st_client',
  sourceName: 'st_client',
  isPublic: false,
  isEvent: false,
  rowType: ST_CLIENT_ROW,
  columns: [
    { colId: 0, name: 'identity', sourceName: 'identity', type: { tag: 'U256' } },
    { colId: 1, name: 'connection_id', sourceName: 'connection_id', type: { tag: 'U128' } },
  ],
  primaryKey: [],
  indexes: [],
  sequenceColumns: [],
};

function le(value: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = value;
  for (let i = 0; i < bytes; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function readLe(bytes: Uint8Array, start: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[start + i] as number);
  return v;
}

function stClientRow(caller: Caller): Uint8Array {
  const row = new Uint8Array(48);
  row.set(le(caller.identity, 32), 0);
  row.set(le(caller.connectionId, 16), 32);
  return row;
}

function randomU256(): bigint {
  return readLe(randomBytes(32), 0, 32);
}

export interface OpenDatabaseOptions {
  readonly name: string;
  /** Module entry (.ts/.js), bundled like `spacetime build`. */
  readonly moduleEntry?: string;
  /** An already-built bundle (see loader/bundle.ts), e.g. to share one build between databases. */
  readonly bundle?: string;
  /** Owner identity (sender of init); persisted on first start. */
  readonly owner?: bigint;
  readonly durability?: DurabilityPort;
  readonly log?: (level: LogLevel, message: string) => void;
}

export interface DevhostDatabase extends HostedDatabase {
  readonly schema: HostModuleSchema;
  /** Rows of a table as the module would see them right now (tests, tools). */
  rows(tableName: string): Uint8Array[];
}

interface RunContext {
  readonly reducer: ReducerSchema;
  readonly caller: Caller;
  readonly timestamp: bigint;
  readonly args: Uint8Array;
}

type RunResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly user: boolean; readonly message: string };

export async function openDatabase(options: OpenDatabaseOptions): Promise<DevhostDatabase> {
  const log = options.log ?? (() => {});
  const durability = options.durability ?? inMemoryDurability();
  const bundle =
    options.bundle ?? (options.moduleEntry ? await bundleModule(options.moduleEntry) : undefined);
  if (bundle === undefined) throw new TypeError('openDatabase needs moduleEntry or bundle');

  const meta = durability.meta;
  const identity = meta.identity ? BigInt(meta.identity) : randomU256();
  const owner = meta.owner ? BigInt(meta.owner) : (options.owner ?? randomU256());
  if (!meta.identity)
    durability.setMeta({
      ...meta,
      name: options.name,
      identity: identity.toString(),
      owner: owner.toString(),
    });

  let schema: HostModuleSchema | undefined;
  let hooks: ModuleHooks | undefined;
  let store: Datastore | undefined;
  const jwtPayloads = new Map<bigint, string>();
  const immediate: { reducer: string; args: Uint8Array }[] = [];

  const sys = createSys({
    get schema() {
      if (!schema) throw new Error('schema not ready');
      return schema;
    },
    get store() {
      if (!store) throw new Error('datastore not ready');
      return store;
    },
    hooks: () => {
      if (!hooks) throw new Error('module hooks not ready');
      return hooks;
    },
    databaseIdentity: () => identity,
    jwtPayload: (connectionId) => jwtPayloads.get(connectionId),
    scheduleImmediate: (reducer, args) => immediate.push({ reducer, args }),
    log,
  });
  const loaded = evaluateBundle(bundle, sys);
  hooks = loaded.hooks;
  schema = buildModuleSchema(decodeModuleDef(loaded.hooks.describeModule()));
  const liveSchema = schema;
  const liveHooks = hooks;
  const db = new Datastore(liveSchema.typespace);
  store = db;
  for (const t of liveSchema.tables) db.addTable(t, liveSchema.uniqueConstraints.get(t.tableId) ?? []);
  db.addTable(ST_CLIENT, [[0, 1]]);

  // ---- transaction pipeline ----
  const listeners = new Set<(tx: CommittedTx) => void>();
  let nextOffset = durability.recovered.offset + 1n;
  let lastTimestamp = 0n;
  const now = (): bigint => {
    const t = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
    lastTimestamp = t > lastTimestamp ? t : lastTimestamp + 1n;
    return lastTimestamp;
  };

  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  /** Serialises transactions; the next one starts only after this one's continuations ran. */
  const enqueue = <T>(task: () => T | Promise<T>): Promise<T> => {
    const run = queue.then(task);
    queue = run.then(
      () => new Promise<void>((r) => setImmediate(r)),
      () => new Promise<void>((r) => setImmediate(r)),
    );
    return run;
  };

  const runInTx = (ctx: RunContext): RunResult => {
    try {
      const ret = liveHooks.callReducer(
        ctx.reducer.reducerId,
        ctx.caller.identity,
        ctx.caller.connectionId,
        ctx.timestamp,
        loaded.argsView(ctx.args),
      );
      if (ret !== undefined)
        return { ok: false, user: false, message: 'Reducer returned a value other than `undefined`' };
      return { ok: true };
    } catch (e) {
      if (liveHooks.isSenderError(e))
        return { ok: false, user: true, message: String((e as { message?: unknown }).message) };
      log(
        'error',
        `reducer ${ctx.reducer.name} failed: ${e instanceof Error || (typeof e === 'object' && e !== null && 'stack' in e) ? String((e as Error).stack ?? e) : String(e)}`,
      );
      return { ok: false, user: false, message: FATAL_ERROR_MESSAGE };
    }
  };

  const scheduleTables = liveSchema.tables.filter((t) => t.schedule);
  const scheduler = new Scheduler({
    now,
    fire: (row, intended) => enqueue(() => fireScheduled(row, intended)),
  });

  const parseScheduled = (table: TableSchema, row: Uint8Array): ScheduledRow => {
    const sched = table.schedule as NonNullable<TableSchema['schedule']>;
    const b = columnBounds(table.rowType, liveSchema.typespace, row);
    const idBytes = row.slice(b[sched.idCol], b[sched.idCol + 1]);
    const atStart = b[sched.scheduleAtCol] as number;
    const micros = BigInt.asIntN(64, readLe(row, atStart + 1, 8));
    const at: ScheduleAt = row[atStart] === 0 ? { kind: 'interval', micros } : { kind: 'time', micros };
    return { table, idBytes, at };
  };

  /** After commit: log, notify, arm schedules. */
  const finishCommit = (
    changes: TableChanges[],
    sequences: ReturnType<Datastore['commit']>['sequences'],
    timestamp: bigint,
    caller: Caller | undefined,
    reducer: { name: string; args: Uint8Array } | undefined,
  ): CommittedTx => {
    const mutations: LoggedMutations[] = changes
      .filter((c) => !c.table.isEvent)
      .map((c) => ({ tableId: c.table.tableId, inserts: c.inserts, deletes: c.deletes }));
    let offset: bigint;
    if (mutations.length > 0 || sequences.length > 0) {
      offset = nextOffset++;
      durability.append({
        offset,
        timestamp,
        ...(reducer ? { reducer: reducer.name, args: reducer.args } : {}),
        ...(caller ? { callerIdentity: caller.identity, callerConnectionId: caller.connectionId } : {}),
        mutations,
        sequences,
      });
    } else {
      // Nothing to log (SpacetimeDB skips empty transactions): the answer is durable with what came before.
      offset = nextOffset - 1n;
    }
    const deltas: TableDelta[] = changes
      .filter((c) => c.table.tableId !== ST_CLIENT_ID)
      .map((c) => ({
        tableId: c.table.tableId,
        table: c.table.name,
        inserts: c.inserts,
        deletes: c.deletes,
      }));
    const tx: CommittedTx = {
      offset,
      timestamp,
      ...(caller ? { caller } : {}),
      ...(reducer ? { reducer } : {}),
      deltas,
    };
    for (const change of changes) {
      if (!change.table.schedule) continue;
      for (const row of change.deletes) scheduler.cancel(parseScheduled(change.table, row));
      for (const row of change.inserts) scheduler.schedule(parseScheduled(change.table, row), timestamp);
    }
    for (const listener of listeners) {
      try {
        listener(tx);
      } catch (e) {
        log('error', `commit listener failed: ${String(e)}`);
      }
    }
    if (durability.shouldSnapshot())
      void durability.snapshot(image()).catch((e) => log('error', `snapshot failed: ${String(e)}`));
    drainImmediate();
    return tx;
  };

  const image = (): Image => {
    const tables = new Map<number, Uint8Array[]>();
    for (const t of db.allTables()) tables.set(t.schema.tableId, [...t.rows.values()]);
    return { offset: nextOffset - 1n, tables, sequences: db.sequenceStates() };
  };

  /** One reducer call as its own transaction. */
  const transact = (
    reducer: ReducerSchema,
    args: Uint8Array,
    caller: Caller,
    timestamp: bigint,
    record: boolean,
    before?: () => void,
  ): ReducerOutcome => {
    db.begin();
    before?.();
    const result = runInTx({ reducer, caller, timestamp, args });
    if (!result.ok) {
      db.rollback();
      return { kind: result.user ? 'failed-user' : 'failed-internal', timestamp, message: result.message };
    }
    const { changes, sequences } = db.commit();
    const tx = finishCommit(changes, sequences, timestamp, record ? caller : undefined, {
      name: reducer.name,
      args,
    });
    return { kind: 'committed', tx };
  };

  const systemCaller: Caller = { identity, connectionId: 0n };

  function drainImmediate(): void {
    while (immediate.length > 0) {
      const { reducer: name, args } = immediate.shift() as { reducer: string; args: Uint8Array };
      void enqueue(() => {
        const reducer = liveSchema.reducerByName(name);
        if (!reducer) {
          log('warn', `volatile_nonatomic_schedule_immediate: no such reducer ${name}`);
          return;
        }
        transact(reducer, args, systemCaller, now(), false);
      });
    }
  }

  function fireScheduled(row: ScheduledRow, intended: bigint): boolean {
    if (closed) return false;
    const table = db.table(row.table.tableId);
    const sched = row.table.schedule as NonNullable<TableSchema['schedule']>;
    const ptr = table.findUnique([sched.idCol], row.idBytes);
    if (ptr === undefined) return false;
    const current = table.rows.get(ptr) as Uint8Array;
    const reducer = liveSchema.reducerByName(sched.reducer);
    if (!reducer) return false;
    const t = now();
    const outcome = transact(reducer, current, systemCaller, t > intended ? t : intended, false);
    if (outcome.kind !== 'committed')
      log('warn', `scheduled reducer ${reducer.name} failed: ${outcome.message}`);
    if (row.at.kind === 'time') {
      // One-shot rows are removed after they ran, in a transaction of their own.
      const again = table.findUnique([sched.idCol], row.idBytes);
      if (again !== undefined) {
        db.begin();
        db.deleteAllByEq(row.table.tableId, withCount(table.rows.get(again) as Uint8Array));
        const { changes, sequences } = db.commit();
        finishCommit(changes, sequences, now(), undefined, undefined);
      }
      return false;
    }
    return table.findUnique([sched.idCol], row.idBytes) !== undefined;
  }

  // ---- start: recover or init ----
  const recovered = durability.recovered;
  if (recovered.offset >= 0n) {
    for (const [tableId, rows] of recovered.tables) if (db.hasTable(tableId)) db.loadRows(tableId, rows);
    for (const seq of recovered.sequences) db.restoreSequence(seq);
  } else {
    const init = liveSchema.lifecycle.get('init');
    db.begin();
    const result = init
      ? runInTx({
          reducer: init,
          caller: { identity: owner, connectionId: 0n },
          timestamp: now(),
          args: new Uint8Array(0),
        })
      : ({ ok: true } as const);
    if (!result.ok) {
      db.rollback();
      throw new Error(`init reducer of ${options.name} failed: ${result.message}`);
    }
    const { changes, sequences } = db.commit();
    finishCommit(
      changes,
      sequences,
      now(),
      undefined,
      init ? { name: init.name, args: new Uint8Array(0) } : undefined,
    );
  }

  const disconnectTx = (caller: Caller): void => {
    const onDisconnect = liveSchema.lifecycle.get('clientDisconnected');
    const deleteClient = () => db.deleteAllByEq(ST_CLIENT_ID, withCount(stClientRow(caller)));
    if (onDisconnect) {
      db.begin();
      const result = runInTx({ reducer: onDisconnect, caller, timestamp: now(), args: new Uint8Array(0) });
      if (result.ok) {
        deleteClient();
        const { changes, sequences } = db.commit();
        finishCommit(changes, sequences, now(), undefined, {
          name: onDisconnect.name,
          args: new Uint8Array(0),
        });
        jwtPayloads.delete(caller.connectionId);
        return;
      }
      db.rollback();
      log('warn', `client_disconnected failed: ${result.message}`);
    }
    db.begin();
    deleteClient();
    const { changes, sequences } = db.commit();
    finishCommit(changes, sequences, now(), undefined, undefined);
    jwtPayloads.delete(caller.connectionId);
  };

  // Clients connected when the last process died get their disconnect now (`st_client` leftovers).
  for (const row of [...db.committedRows(ST_CLIENT_ID)]) {
    await enqueue(() => disconnectTx({ identity: readLe(row, 0, 32), connectionId: readLe(row, 32, 16) }));
  }
  for (const table of scheduleTables) {
    for (const row of db.committedRows(table.tableId)) scheduler.schedule(parseScheduled(table, row), now());
  }

  const hosted: DevhostDatabase = {
    name: options.name,
    schema: liveSchema,
    identity,
    owner,
    callReducer(name, args, caller) {
      return enqueue((): ReducerOutcome => {
        const reducer = liveSchema.reducerByName(name);
        const at = now();
        if (!reducer || (!reducer.clientCallable && !reducer.lifecycle))
          return { kind: 'failed-internal', timestamp: at, message: `no such reducer` };
        if (reducer.lifecycle) {
          const spec =
            reducer.lifecycle === 'init'
              ? 'Init'
              : reducer.lifecycle === 'clientConnected'
                ? 'OnConnect'
                : 'OnDisconnect';
          return {
            kind: 'failed-internal',
            timestamp: at,
            message: `can't directly call special ${spec} lifecycle reducer`,
          };
        }
        try {
          validateExact(reducer.params, liveSchema.typespace, args);
        } catch (e) {
          return {
            kind: 'failed-internal',
            timestamp: at,
            message: `invalid arguments for function ${reducer.name}: ${(e as Error).message}`,
          };
        }
        return transact(reducer, args, caller, at, true);
      });
    },
    connectClient(caller, jwtPayload) {
      return enqueue(() => {
        if (jwtPayload !== undefined) jwtPayloads.set(caller.connectionId, jwtPayload);
        const onConnect = liveSchema.lifecycle.get('clientConnected');
        db.begin();
        db.insert(ST_CLIENT_ID, stClientRow(caller));
        if (onConnect) {
          const result = runInTx({ reducer: onConnect, caller, timestamp: now(), args: new Uint8Array(0) });
          if (!result.ok) {
            db.rollback();
            jwtPayloads.delete(caller.connectionId);
            return false;
          }
        }
        const { changes, sequences } = db.commit();
        finishCommit(
          changes,
          sequences,
          now(),
          undefined,
          onConnect ? { name: onConnect.name, args: new Uint8Array(0) } : undefined,
        );
        return true;
      });
    },
    disconnectClient(caller) {
      return enqueue(() => disconnectTx(caller));
    },
    scanTable(tableId) {
      return db.committedRows(tableId);
    },
    scanIndexRange(scan) {
      return db.committedRange(scan.indexId, scan.prefix, scan.prefixElems, scan.start, scan.end);
    },
    rows(tableName) {
      const t = liveSchema.tableByName(tableName);
      if (!t) throw new Error(`no table ${tableName}`);
      return [...db.committedRows(t.tableId)];
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitDurable(offset) {
      return durability.waitDurable(offset);
    },
    async close() {
      if (closed) return;
      closed = true;
      scheduler.close();
      await enqueue(() => undefined);
      await durability.close();
    },
  };
  return hosted;
}

/** BSATN `Array<Row>` of one row, the shape `datastore_delete_all_by_eq_bsatn` takes. */
function withCount(row: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + row.length);
  out[0] = 1;
  out.set(row, 4);
  return out;
}
