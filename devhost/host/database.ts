/**
 * One hosted database: the module evaluated once in its own realm, its datastore, and the parts that
 * drive it — one transaction queue (tx-queue), reducer runs (reducer-runner, transaction), what a
 * commit sets off (commit-pipeline), schedules (scheduled-reducers), client connect/disconnect
 * (client-lifecycle) and the first state (start-state). Every transaction runs on the one queue, one
 * at a time, like the real host's single JS worker (host spec §2.6, §1.7).
 */
import type { Caller, HostedDatabase, ReducerOutcome, ReducerSchema } from '../contract.js';
import { bundleModule, evaluateBundle } from '../loader/index.js';
import { buildModuleSchema, decodeModuleDef, type HostModuleSchema } from '../schema/index.js';
import { Datastore } from '../store/datastore.js';
import { refuseClientCall } from './call-checks.js';
import { ClientLifecycle } from './client-lifecycle.js';
import { CommitPipeline } from './commit-pipeline.js';
import { type DurabilityPort, inMemoryDurability } from './durability-port.js';
import { randomU256 } from './le-bytes.js';
import { createReducerRunner } from './reducer-runner.js';
import { ScheduledReducers } from './scheduled-reducers.js';
import { ST_CLIENT, ST_CLIENT_UNIQUE } from './st-client.js';
import { restoreOrInit } from './start-state.js';
import { createSys, type LogLevel } from './sys-abi.js';
import { type TxEngine, transact } from './transaction.js';
import { createTxClock } from './tx-clock.js';
import { TxQueue } from './tx-queue.js';

export { FATAL_ERROR_MESSAGE } from './reducer-runner.js';

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
  /** Why no transaction can commit right now (its commit log is out of space), or undefined. */
  commitBlocked(): string | undefined;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DevhostDatabase> {
  const log = options.log ?? (() => {});
  const durability = options.durability ?? inMemoryDurability();
  const bundle =
    options.bundle ?? (options.moduleEntry ? await bundleModule(options.moduleEntry) : undefined);
  if (bundle === undefined) throw new TypeError('openDatabase needs moduleEntry or bundle');
  const { identity, owner } = identities(durability, options);

  // The module calls back into the host (sys ABI) while it is evaluated and on every reducer run;
  // the parts it reaches exist once evaluation returned, hence the late-bound accessors.
  let live: { schema: HostModuleSchema; store: Datastore; clients: ClientLifecycle } | undefined;
  const ready = () => {
    if (!live) throw new Error('database not ready');
    return live;
  };
  const immediate: { reducer: string; args: Uint8Array }[] = [];
  /** The caller of the reducer running now (get_jwt_payload reads that caller's credentials). */
  let running: Caller | undefined;
  const sys = createSys({
    get schema() {
      return ready().schema;
    },
    get store() {
      return ready().store;
    },
    hooks: () => loaded.hooks,
    databaseIdentity: () => identity,
    // Keyed by the running call's identity too: a connection id alone is the client's choice.
    jwtPayload: (connectionId) =>
      ready().clients.jwtPayload({ identity: running?.identity ?? 0n, connectionId }),
    scheduleImmediate: (reducer, args) => immediate.push({ reducer, args }),
    log,
  });
  const loaded = evaluateBundle(bundle, sys);
  const schema = buildModuleSchema(decodeModuleDef(loaded.hooks.describeModule()));
  const store = new Datastore(schema.typespace);
  for (const t of schema.tables) store.addTable(t, schema.uniqueConstraints.get(t.tableId) ?? []);
  store.addTable(ST_CLIENT, ST_CLIENT_UNIQUE);

  const clock = createTxClock();
  const queue = new TxQueue();
  const system: Caller = { identity, connectionId: 0n };
  let schedules: ScheduledReducers | undefined;
  const commits = new CommitPipeline({
    store,
    durability,
    log,
    onChanges: (changes, timestamp) => schedules?.follow(changes, timestamp),
    afterCommit: () => {
      // volatile_nonatomic_schedule_immediate: each call runs later, as a transaction of its own.
      for (const call of immediate.splice(0)) void queue.run(() => runImmediate(call.reducer, call.args));
    },
  });
  const runReducer = createReducerRunner(loaded, log);
  const engine: TxEngine = {
    store,
    run: (call) => {
      running = call.caller;
      try {
        return runReducer(call);
      } finally {
        running = undefined;
      }
    },
    commits,
  };
  schedules = new ScheduledReducers({ schema, engine, clock, queue, system, log });
  const clients = new ClientLifecycle(schema, engine, clock, log);
  live = { schema, store, clients };

  function runImmediate(name: string, args: Uint8Array): void {
    const reducer = schema.reducerByName(name);
    if (!reducer) log('warn', `volatile_nonatomic_schedule_immediate: no such reducer ${name}`);
    else transact(engine, reducer, args, system, clock(), false);
  }

  restoreOrInit(engine, schema, durability.recovered, { owner, databaseName: options.name, clock });
  // Clients connected when the last process died get their disconnect now (`st_client` leftovers).
  for (const caller of clients.leftovers()) await queue.run(() => clients.disconnect(caller));
  schedules.armCommitted();

  let closed = false;
  return {
    name: options.name,
    schema,
    identity,
    owner,
    callReducer(name, args, caller) {
      return queue.run((): ReducerOutcome => {
        const reducer = schema.reducerByName(name);
        const at = clock();
        const refused = refuseClientCall(reducer, args, schema.typespace);
        if (refused !== undefined) return { kind: 'failed-internal', timestamp: at, message: refused };
        return transact(engine, reducer as ReducerSchema, args, caller, at, true);
      });
    },
    connectClient: (caller, jwtPayload) => queue.run(() => clients.connect(caller, jwtPayload)),
    disconnectClient: (caller) => queue.run(() => clients.disconnect(caller)),
    scanTable: (tableId) => store.committedRows(tableId),
    scanIndexRange: (scan) =>
      store.committedRange(scan.indexId, scan.prefix, scan.prefixElems, scan.start, scan.end),
    rows(tableName) {
      const t = schema.tableByName(tableName);
      if (!t) throw new Error(`no table ${tableName}`);
      return [...store.committedRows(t.tableId)];
    },
    onCommit: (listener) => commits.onCommit(listener),
    commitBlocked: () => commits.blocked,
    waitDurable: (offset) => durability.waitDurable(offset),
    async close() {
      if (closed) return;
      closed = true;
      schedules.close();
      await queue.drained();
      await durability.close();
    },
  };
}

/** The database's identity and owner: persisted in durability's meta on first start, read after. */
function identities(
  durability: DurabilityPort,
  options: Pick<OpenDatabaseOptions, 'name' | 'owner'>,
): { identity: bigint; owner: bigint } {
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
  return { identity, owner };
}
