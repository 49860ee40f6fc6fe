/**
 * The service's lifetime under `spacetime-sync start`: start, announce, record the local service for
 * the CLI, wait for SIGTERM/SIGINT, stop gracefully. Loaded only by `start`, so other commands never
 * load kafkajs or devhost.
 */
import type { ServiceConfig } from '../adapter/config.js';
import { startService } from '../adapter/service.js';
import { createLogger } from '../adapter/telemetry/logger.js';
import { createMetricsRegistry } from '../adapter/telemetry/metrics.js';
import { routeSdkLogs } from '../adapter/telemetry/sdk-logs.js';
import { LaneConfigError } from '../legacy/config.js';
import { startEmbeddedLegacyLane } from '../legacy/embed.js';
import type { LegacyLane } from '../legacy/lane.js';
import { localServicePath, removeLocalService, writeLocalService } from './local-service.js';

/** What `npm start` runs with this configuration, one line per component. */
export function describePlan(config: ServiceConfig): string[] {
  const st = config.spacetime;
  const target =
    st.kind === 'embedded'
      ? `embedded devhost on ws://127.0.0.1:${st.port} hosting module/ (${st.dataDir ? `data in ${st.dataDir}` : 'memory only'})`
      : `SpacetimeDB at ${st.uri}, database '${st.database}'${st.token ? ' (token set)' : ''}`;
  const kafka = config.kafka
    ? `Kafka consumer group '${config.kafka.groupId}' on ${config.kafka.topics.join(', ')} via ${config.kafka.brokers.join(', ')}; dead letters to '${config.kafka.deadLetterTopic}'`
    : 'Kafka consumer off (set KAFKA_BROKERS to turn it on)';
  const bridge = config.bridge
    ? `Nostr bridge for target '${config.bridge.target}' to ${config.bridge.relays.map((r) => r.label).join(', ')} as ${config.bridge.publicKey}`
    : 'Nostr bridge off (set BRIDGE_NOSTR_RELAYS and BRIDGE_NOSTR_KEY_FILE to turn it on)';
  return [
    `spacetime-sync: SpacetimeDB  ${target}`,
    `spacetime-sync: ingest       Connect RPC on http://${config.ingest.host}:${config.ingest.port}`,
    `spacetime-sync: kafka        ${kafka}`,
    `spacetime-sync: bridge       ${bridge}`,
  ];
}

/**
 * Runs until SIGTERM/SIGINT; false when the service could not start. With LEGACY_LANE=1 the legacy
 * lane runs beside it, fed every envelope the ingest API commits (legacy/README.md); its bad settings
 * throw LaneConfigError (exit 2).
 */
export async function runService(config: ServiceConfig): Promise<boolean> {
  for (const line of describePlan(config)) console.log(line);
  const logger = createLogger({ level: config.logLevel, component: 'adapter' });
  routeSdkLogs(logger);
  const registry = createMetricsRegistry({ defaultMetrics: true });
  let lane: LegacyLane | undefined;
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    lane = await startEmbeddedLegacyLane(process.env, config.kafka, logger, registry);
    service = await startService(config, logger, {
      registry,
      ...(lane ? { acceptedSink: lane.mirror } : {}),
    });
  } catch (e) {
    await lane?.stop();
    if (e instanceof LaneConfigError) throw e;
    const err = e as NodeJS.ErrnoException & { port?: number };
    if (err.code === 'EADDRINUSE') {
      console.error(
        `spacetime-sync: port ${err.port} is already in use; choose others with DEVHOST_PORT / INGEST_PORT`,
      );
      return false;
    }
    console.error(`spacetime-sync: could not start: ${err.message}`);
    return false;
  }
  const spacetimeUri = service.spacetimeUrl.replace(/^http/, 'ws');
  console.log(`spacetime-sync: listening   SpacetimeDB ${spacetimeUri} (database '${service.database}')`);
  console.log(`spacetime-sync: listening   ingest + /metrics /healthz /readyz on ${service.httpUrl}`);
  writeLocalService({
    pid: process.pid,
    url: service.httpUrl,
    spacetimedb: { uri: spacetimeUri, database: service.database },
    ...(service.devhost ? { ownerToken: service.devhost.ownerToken } : {}),
  });
  console.log(
    `spacetime-sync: local       address${service.devhost ? ' and owner token' : ''} for the CLI in ${localServicePath()} (mode 0600)`,
  );
  if (lane) console.log(`legacy lane listening on ${lane.url}`);
  console.log('spacetime-sync: ready');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  console.log('spacetime-sync: stopping (finishing in-flight work)');
  removeLocalService();
  await service.stop();
  await lane?.stop();
  console.log('spacetime-sync: stopped');
  return true;
}
