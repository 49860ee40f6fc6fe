/**
 * Start step 2, the shards: every shard's writer starts connecting at once and retries with capped
 * backoff for as long as its shard is away. The HTTP listener comes up before the wait
 * (`untilConnected`), so /readyz can say why the service is not ready.
 */

import type { Logger } from 'pino';
import type { ServiceConfig } from '../config.js';
import type { AdapterMetrics } from '../metrics.js';
import type { ServiceLifecycle } from '../service-lifecycle.js';
import { ShardSet, type ShardTarget } from '../shards/shard-set.js';
import { SpacetimeRefusedError } from '../spacetime/connect-refusal.js';

export function openShards(
  targets: ShardTarget[],
  config: ServiceConfig,
  metrics: AdapterMetrics,
  logger: Logger,
  life: ServiceLifecycle,
): ShardSet {
  const connectedBefore = new Set<string>();
  const shards = ShardSet.open(targets, {
    logger: logger.child({ subsystem: 'spacetimedb' }),
    ...(config.shardMoves ? { moves: config.shardMoves } : {}),
    ...(config.writerMaxInFlight ? { maxInFlight: config.writerMaxInFlight } : {}),
    ...(config.spacetimeConnectTimeoutMs ? { connectTimeoutMs: config.spacetimeConnectTimeoutMs } : {}),
    onConnected: (shard) => {
      if (connectedBefore.has(shard)) metrics.spacetimeReconnects.inc();
      connectedBefore.add(shard);
    },
  });
  life.started(() => shards.close());
  logger.info({ shards: targets.map((t) => `${t.name}=${t.uri}/${t.database}`) }, 'shards');
  return shards;
}

/**
 * Waits as long as SpacetimeDB is away (the links retry by themselves), re-checking for a stop every
 * second; a permanent refusal (../spacetime/connect-refusal.ts) ends the start.
 */
export async function untilConnected(
  life: ServiceLifecycle,
  wait: (ms: number) => Promise<void>,
): Promise<void> {
  for (;;) {
    await life.checkpoint();
    try {
      await wait(1_000);
      return;
    } catch (e) {
      if (e instanceof SpacetimeRefusedError) await life.failed(e);
    }
  }
}
