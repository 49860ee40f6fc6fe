/**
 * The embedded default: devhost hosting the sync module in this process, when no SpacetimeDB is
 * configured. devhost (and with it its SQL engine) is imported here, on first use only,
 * so a service pointed at a real SpacetimeDB never loads it.
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

export async function startEmbeddedDevhost(
  options: {
    port: number;
    dataDir?: string;
    truncateCorrupt?: boolean;
    oidcKeyCacheMs?: number;
    shardCount?: number;
  },
  logger: Logger,
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
      if (level === 'error' || level === 'panic') logger.error({ module: message }, 'module error');
      else if (level === 'warn') logger.warn({ module: message }, 'module warning');
    },
  });
}
