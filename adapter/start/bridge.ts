/**
 * Start step 8, the Nostr bridge (../bridge/), only when configured: a worker per shard, each
 * draining its shard's outbox (a bridge event is enqueued on its stream's shard). It is loaded
 * lazily: the worker pulls in nostr-tools.
 */

import type { Logger } from 'pino';
import type { RunningBridge } from '../bridge/start-bridge.js';
import type { ServiceConfig } from '../config.js';
import type { ServiceLifecycle } from '../service-lifecycle.js';
import type { Shard } from '../shards/shard-set.js';
import type { Registry } from '../telemetry/metrics.js';

export async function startBridgeWorker(deps: {
  readonly bridge: NonNullable<ServiceConfig['bridge']>;
  readonly shards: readonly Shard[];
  readonly embedded: boolean;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly life: ServiceLifecycle;
}): Promise<RunningBridge> {
  const { life } = deps;
  const { startBridge } = await import('../bridge/start-bridge.js');
  await life.checkpoint();
  const b = await startBridge({
    config: deps.bridge,
    shards: deps.shards.map((s) => ({
      name: s.name,
      uri: s.uri,
      database: s.database,
      ...(s.token ? { token: s.token } : {}),
      ...(s.connectTimeoutMs ? { connectTimeoutMs: s.connectTimeoutMs } : {}),
    })),
    embedded: deps.embedded,
    registry: deps.registry,
    logger: deps.logger.child({ subsystem: 'bridge' }),
  }).catch(life.failed);
  life.started(() => b.stop());
  await life.checkpoint();
  return b;
}
