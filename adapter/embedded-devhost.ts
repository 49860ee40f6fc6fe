/**
 * The embedded default: devhost hosting the sync module inside the service process, when no
 * SpacetimeDB is configured. By default on a worker thread of its own (./devhost-thread/,
 * `DEVHOST_THREAD=worker`), so the module's reducers, the datastore, the commit log and the
 * subscriptions do not share the JS thread with the ingest and the writer; `DEVHOST_THREAD=inline`
 * keeps it on the service's thread. devhost (and with it its SQL engine) is imported on first use
 * only, so a service pointed at a real SpacetimeDB never loads it.
 */
import type { Devhost } from '@spacetime-sync/devhost';
import type { Logger } from 'pino';
import { embeddedDatabase } from '../shared/shards/config.js';

// Beside service.ts at the adapter root, so the path also holds from the compiled dist/ (one level down).
export const SYNC_MODULE_ENTRY = new URL('../module/src/index.ts', import.meta.url).pathname;
/**
 * The sync module bundled by `npm run build` (scripts/build.mjs) into dist/, beside the compiled
 * service: used while it matches module/src on disk, so a start needs no bundler. From the
 * TypeScript sources (tsx) there is no such file and devhost bundles the module itself.
 */
export const PREBUILT_SYNC_MODULE = new URL('./sync-module.bundle.json', import.meta.url).pathname;
/** The database name the embedded devhost hosts the sync module under. */
export const EMBEDDED_DATABASE = 'spacetime-sync';

/** Where the embedded devhost runs: its own worker thread (default) or the service's thread. */
export type DevhostThreadMode = 'worker' | 'inline';

export interface EmbeddedDevhostOptions {
  readonly port: number;
  readonly dataDir?: string;
  readonly truncateCorrupt?: boolean;
  readonly oidcKeyCacheMs?: number;
  readonly shardCount?: number;
}

/** What the service holds of its embedded devhost, in either mode. */
export interface EmbeddedDevhost {
  readonly thread: DevhostThreadMode;
  readonly url: string;
  readonly port: number;
  /** Token of the identity that owns every database here: used once at start to grant the writer. */
  readonly ownerToken: string;
  readonly ownerIdentity: bigint;
  /** Worker mode on Linux: the devhost thread's id (/proc/<pid>/task/<id>), for per-thread CPU figures. */
  readonly osThreadId?: number;
  /** Accept tokens of one more OIDC issuer from now on. */
  trustIssuer(issuer: string): void;
  /** Why the devhost cannot commit right now (out of space, its thread died); empty when it can. */
  commitProblems(): string[];
  /**
   * Committed rows of one table, decoded (tests and diagnostics; a copy, not live). From the worker
   * thread they arrive by structured clone: plain objects, so a Timestamp is its bare field.
   */
  tableRows(database: string, table: string): Promise<Record<string, unknown>[]>;
  /** Settles with the reason when the devhost's thread dies while serving; never in the inline mode. */
  readonly failure: Promise<Error>;
  /** The devhost object itself, inline mode only (tests that hook into its datastore). */
  readonly inProcess?: Devhost;
  /** Stops the listener and flushes and closes every commit log. */
  stop(): Promise<void>;
}

/** A module error or warning from devhost. */
export type ModuleLog = (level: 'error' | 'warn', message: string) => void;

export const moduleLogTo =
  (logger: Logger): ModuleLog =>
  (level, message) => {
    if (level === 'error') logger.error({ module: message }, 'module error');
    else logger.warn({ module: message }, 'module warning');
  };

/** devhost itself, on the calling thread (the worker thread's entry calls this too). */
export async function startEmbeddedDevhost(
  options: EmbeddedDevhostOptions,
  log: ModuleLog,
): Promise<Devhost> {
  const { startDevhost } = await import('@spacetime-sync/devhost');
  return startDevhost({
    // One database per shard (SPACETIMEDB_SHARD_COUNT); the first keeps the unsharded name.
    databases: Array.from({ length: options.shardCount ?? 1 }, (_, i) => ({
      name: embeddedDatabase(EMBEDDED_DATABASE, i),
      moduleEntry: SYNC_MODULE_ENTRY,
      prebuilt: PREBUILT_SYNC_MODULE,
    })),
    port: options.port,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    // The sync module's note_history_cut (devhost's default hook) moves every stream to a new epoch.
    ...(options.truncateCorrupt ? { truncateCorrupt: true } : {}),
    // The service's own issuer serves its JWKS with max-age 60: a retired key stops verifying within it.
    oidcKeyCacheMs: options.oidcKeyCacheMs ?? 60_000,
    log: (level, message) => {
      if (level === 'error' || level === 'panic') log('error', message);
      else if (level === 'warn') log('warn', message);
    },
  });
}

/** The embedded devhost in the mode asked for. */
export async function startEmbedded(
  options: EmbeddedDevhostOptions,
  thread: { readonly mode: DevhostThreadMode; readonly heapMb?: number },
  logger: Logger,
): Promise<EmbeddedDevhost> {
  if (thread.mode === 'worker') {
    const { startThreadDevhost } = await import('./devhost-thread/thread-devhost.js');
    return startThreadDevhost(options, logger, thread.heapMb);
  }
  const d = await startEmbeddedDevhost(options, moduleLogTo(logger));
  const { decodedRows } = await import('./devhost-thread/decoded-rows.js');
  return {
    thread: 'inline',
    url: d.url,
    port: d.port,
    ownerToken: d.ownerToken,
    ownerIdentity: d.ownerIdentity,
    trustIssuer: (issuer) => d.trustIssuer(issuer),
    commitProblems: () => d.commitProblems(),
    tableRows: async (database, table) => decodedRows(d, database, table),
    failure: new Promise<Error>(() => {}),
    inProcess: d,
    stop: () => d.stop(),
  };
}
