/**
 * Start step 3, the cutover: its store (the stage lives in SpacetimeDB on the primary shard, so a
 * restarted service resumes it from there) and its controller. The controller starts last, once
 * every part it gates on is up (../service.ts).
 */

import type { Logger } from 'pino';
import type { ServiceConfig } from '../config.js';
import { cutoverConfig } from '../cutover/config.js';
import { CutoverController } from '../cutover/controller.js';
import type { LegacyLaneHealth } from '../cutover/legacy-lane.js';
import { CutoverStore } from '../cutover/store.js';
import type { ServiceLifecycle } from '../service-lifecycle.js';
import type { Shard } from '../shards/shard-set.js';
import type { Registry } from '../telemetry/metrics.js';

export interface CutoverParts {
  readonly store: CutoverStore;
  readonly controller: CutoverController;
}

export function createCutover(deps: {
  readonly config: ServiceConfig;
  readonly primary: Shard;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly life: ServiceLifecycle;
  /** Whether the Kafka source was started (it starts after the cutover is created). */
  readonly kafkaRunning: () => boolean;
  /** Shadow parity's legacy client is the service's one link to the legacy lane (it starts later). */
  readonly legacyLane: () => LegacyLaneHealth | undefined;
}): CutoverParts {
  const { config, primary, logger } = deps;
  const store = CutoverStore.connecting({
    uri: primary.uri,
    database: primary.database,
    ...(primary.token ? { token: primary.token } : {}),
    ...(primary.connectTimeoutMs ? { connectTimeoutMs: primary.connectTimeoutMs } : {}),
    logger: logger.child({ subsystem: 'cutover' }),
  });
  deps.life.started(async () => store.close());
  const controller = new CutoverController({
    store,
    registry: deps.registry,
    config: config.cutover ?? cutoverConfig({}, (v, m) => new Error(`${v}: ${m}`)),
    logger: logger.child({ subsystem: 'cutover' }),
    kafkaRunning: deps.kafkaRunning,
    ...(config.parityShadow ? { parityGraceMs: config.parityShadow.graceMs } : {}),
    legacyLane: deps.legacyLane,
  });
  return { store, controller };
}
