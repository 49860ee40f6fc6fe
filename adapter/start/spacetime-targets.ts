/**
 * Start step 1, SpacetimeDB: which databases the service writes to. Embedded: start the devhost (on
 * its own thread unless DEVHOST_THREAD=inline) and provision the service's writer identity on every shard's database. Remote or sharded: the
 * configured targets as they are.
 */

import { join } from 'node:path';
import type { Logger } from 'pino';
import { embeddedDatabase, embeddedShardNames, FIRST_SHARD } from '../../shared/shards/config.js';
import { DEFAULT_DEVHOST_THREAD, type ServiceConfig } from '../config.js';
import { EMBEDDED_DATABASE, type EmbeddedDevhost, startEmbedded } from '../embedded-devhost.js';
import type { ServiceLifecycle } from '../service-lifecycle.js';
import type { ShardTarget } from '../shards/shard-set.js';
import { provisionWriter } from '../spacetime/writer-identity.js';

/** The embedded writer identity's token, in the devhost data dir (0600), so restarts keep the identity. */
export const WRITER_TOKEN_FILE = 'writer-token';

export interface SpacetimeTargets {
  /** Only when embedded. */
  readonly devhost?: EmbeddedDevhost;
  readonly targets: ShardTarget[];
}

export async function spacetimeTargets(
  st: ServiceConfig['spacetime'],
  logger: Logger,
  life: ServiceLifecycle,
): Promise<SpacetimeTargets> {
  if (st.kind === 'remote') {
    return {
      targets: [
        { name: FIRST_SHARD, uri: st.uri, database: st.database, ...(st.token ? { token: st.token } : {}) },
      ],
    };
  }
  if (st.kind !== 'embedded') {
    return {
      targets: st.shards.map((t) => {
        const shardToken = t.token ?? st.token;
        return {
          name: t.name,
          uri: t.uri,
          database: t.database,
          ...(shardToken ? { token: shardToken } : {}),
        };
      }),
    };
  }
  const d = await startEmbedded(
    {
      port: st.port,
      ...(st.dataDir ? { dataDir: st.dataDir } : {}),
      ...(st.truncateCorrupt ? { truncateCorrupt: true } : {}),
      ...(st.oidcKeyCacheMs !== undefined ? { oidcKeyCacheMs: st.oidcKeyCacheMs } : {}),
      ...(st.shardCount ? { shardCount: st.shardCount } : {}),
    },
    {
      mode: st.thread ?? DEFAULT_DEVHOST_THREAD,
      ...(st.threadHeapMb !== undefined ? { heapMb: st.threadHeapMb } : {}),
    },
    logger,
  ).catch(life.failed);
  life.started(() => d.stop());
  await life.checkpoint();
  const targets: ShardTarget[] = [];
  for (const [i, name] of embeddedShardNames(st.shardCount ?? 1).entries()) {
    const database = embeddedDatabase(EMBEDDED_DATABASE, i);
    // The owner token is used for this setup step only; the service writes as a granted writer
    // (one identity, kept in the data dir, granted on every shard's database).
    const writerIdentity = await provisionWriter({
      uri: d.url,
      database,
      ownerToken: d.ownerToken,
      ...(st.dataDir ? { tokenFile: join(st.dataDir, WRITER_TOKEN_FILE) } : {}),
    }).catch(life.failed);
    await life.checkpoint();
    targets.push({ name, uri: d.url, database, token: writerIdentity.token });
    logger.info(
      { identity: writerIdentity.identityHex, shard: name },
      'writing as a granted writer identity',
    );
  }
  return { devhost: d, targets };
}
