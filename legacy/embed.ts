/**
 * `npm start` with LEGACY_LANE=1: the legacy lane beside devhost, fed by the service's ingest path
 * (the service calls the lane's mirror for every committed batch) and, when the service reads Kafka,
 * by the lane's own consumer group on the same topics. The lane (and with it kafkajs, which its feed
 * uses) is imported only when LEGACY_LANE=1: a service without it never loads them.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { laneConfigFromEnv, lanePort } from './config.js';
import type { LegacyLane } from './lane.js';

/** The lane when LEGACY_LANE=1, else undefined. Throws LaneConfigError for bad settings. */
export async function startEmbeddedLegacyLane(
  env: Readonly<Record<string, string | undefined>>,
  kafka: { readonly brokers: readonly string[]; readonly topics: readonly string[] } | undefined,
  logger: Logger,
  registry?: Registry,
): Promise<LegacyLane | undefined> {
  if (env.LEGACY_LANE?.trim() !== '1') return undefined;
  const config = laneConfigFromEnv(env);
  const { startLegacyLane } = await import('./lane.js');
  return startLegacyLane({
    dataDir: config.dataDir,
    keyring: config.keyring,
    servedTopics: config.servedTopics,
    expectedClaims: config.expectedClaims,
    port: lanePort(env.LEGACY_LANE_PORT),
    logger,
    ...(registry ? { registry } : {}),
    ...(kafka ? { kafka: { brokers: kafka.brokers, topics: kafka.topics, groupId: config.groupId } } : {}),
  });
}
