/**
 * Start step 8, the Nostr bridge worker (../bridge/), only when configured. It is loaded lazily:
 * the worker pulls in nostr-tools.
 */

import type { Logger } from 'pino';
import type { BridgeWorker } from '../bridge/bridge-worker.js';
import type { ServiceConfig } from '../config.js';
import type { ServiceLifecycle } from '../service-lifecycle.js';
import type { Shard } from '../shards/shard-set.js';
import type { Registry } from '../telemetry/metrics.js';

export async function startBridgeWorker(deps: {
  readonly bridge: NonNullable<ServiceConfig['bridge']>;
  readonly primary: Shard;
  readonly embedded: boolean;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly life: ServiceLifecycle;
}): Promise<BridgeWorker> {
  const { primary, life } = deps;
  const { startBridge } = await import('../bridge/start-bridge.js');
  await life.checkpoint();
  const b = await startBridge({
    config: deps.bridge,
    uri: primary.uri,
    database: primary.database,
    ...(primary.token ? { serviceToken: primary.token } : {}),
    embedded: deps.embedded,
    registry: deps.registry,
    logger: deps.logger.child({ subsystem: 'bridge' }),
  }).catch(life.failed);
  life.started(() => b.stop());
  await life.checkpoint();
  return b;
}
