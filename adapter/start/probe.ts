/**
 * Start step 7, the delivery probe (only when PROBE_INTERVAL_MS is set): it publishes to its own
 * stream on the primary shard and measures how long a subscriber takes to see it.
 */

import type { Logger } from 'pino';
import type { AdapterMetrics } from '../metrics.js';
import type { ServiceLifecycle } from '../service-lifecycle.js';
import type { Shard } from '../shards/shard-set.js';
import { DeliveryProbe } from '../spacetime/delivery-probe.js';

export function startProbe(deps: {
  readonly intervalMs: number;
  readonly primary: Shard;
  readonly metrics: AdapterMetrics;
  readonly logger: Logger;
  readonly life: ServiceLifecycle;
}): void {
  const { primary } = deps;
  const probe = new DeliveryProbe({
    uri: primary.uri,
    database: primary.database,
    ...(primary.token ? { token: primary.token } : {}),
    ...(primary.connectTimeoutMs ? { connectTimeoutMs: primary.connectTimeoutMs } : {}),
    writer: primary.writer,
    metrics: deps.metrics,
    logger: deps.logger.child({ subsystem: 'probe' }),
    intervalMs: deps.intervalMs,
  });
  probe.start();
  deps.life.started(() => probe.stop());
}
