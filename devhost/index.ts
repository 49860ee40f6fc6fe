/**
 * `@spacetime-sync/devhost`'s public API, its one entry: everything outside this folder imports
 * devhost through this file, by package name. Loading it loads the whole host (esbuild only when a
 * module is bundled), so a caller that may not need a host imports it lazily
 * (`await import('@spacetime-sync/devhost')`).
 */

// Client bindings from a module's own description (the `spacetime generate` stand-in).
export * from './codegen/index.js';
// What a hosted database offers its host process (rows, schema, reducer calls, commit hooks).
export type {
  Caller,
  CommittedTx,
  DatabaseRegistry,
  HostedDatabase,
  ModuleSchema,
  ReducerOutcome,
  TableSchema,
} from './contract.js';
export type { FsyncPolicy, HistoryCutReport } from './durability/index.js';
// Telling a module its commit log was cut (`truncateCorrupt`).
export { callHistoryCutReducer, HISTORY_CUT_REDUCER } from './history-cut-hook.js';
export type { DevhostDatabase, LogLevel } from './host/index.js';
// A module bundle built ahead of time (`npm run build`), used while it matches the sources.
export { type PrebuiltBundle, readPrebuiltBundle, writePrebuiltBundle } from './loader/index.js';
// The subscription query compiler, for callers that inspect how a query will be planned.
export { type CompiledQuery, compileQuery, type SqlAuth } from './sql/index.js';
// Hosting: start, address, owner credentials, stop.
export {
  type Devhost,
  type DevhostDatabaseSpec,
  type StartDevhostOptions,
  startDevhost,
} from './start-devhost.js';
// The datastore alone (no module, no log): the ceiling `npm run bench` prints beside append cases.
export { type StoreOnly, storeOnly } from './store/insert-ceiling.js';
