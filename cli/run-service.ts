/**
 * The service's lifetime under `spacetime-sync start`: start, announce through the logger (one
 * format for the whole run), record the local service for the CLI, wait for SIGTERM/SIGINT, stop
 * gracefully, and say "stopped" last. Loaded only by `start`, so other commands never load kafkajs
 * or devhost.
 */
import type { ServiceConfig } from '../adapter/config.js';
import { StartAborted, startService } from '../adapter/service.js';
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
      ? `embedded devhost on ws://127.0.0.1:${st.port} hosting module/${st.shardCount ? ` in ${st.shardCount} databases, one per shard` : ''} (${st.dataDir ? `data in ${st.dataDir}` : 'memory only'})`
      : st.kind === 'remote'
        ? `SpacetimeDB at ${st.uri}, database '${st.database}'${st.token ? ' (token set)' : ''}`
        : `${st.shards.length} shards: ${st.shards.map((s) => `${s.name} = ${s.uri} database '${s.database}'`).join('; ')}${st.token ? ' (token set)' : ''}`;
  const kafka = config.kafka
    ? `Kafka consumer group '${config.kafka.groupId}' on ${config.kafka.topics.join(', ')} via ${config.kafka.brokers.join(', ')}; dead letters to '${config.kafka.deadLetterTopic}'`
    : 'Kafka consumer off (set KAFKA_BROKERS to turn it on)';
  const bridge = config.bridge
    ? `Nostr bridge for target '${config.bridge.target}' to ${config.bridge.relays.map((r) => r.label).join(', ')} as ${config.bridge.publicKey}`
    : 'Nostr bridge off (set BRIDGE_NOSTR_RELAYS and BRIDGE_NOSTR_KEY_FILE to turn it on)';
  return [
    `SpacetimeDB: ${target}`,
    `ingest: Connect RPC on ${config.ingest.tls ? `https (TLS${config.ingest.tls.clientCaFile ? ', client certificates required' : ''})` : 'http'}://${config.ingest.host}:${config.ingest.port}`,
    `auth: bearer tokens for '${config.auth.audience}' from ${describeIssuers(config)}; operations endpoints open without a token: ${[...config.auth.openOps].join(', ') || 'none'}`,
    `kafka: ${kafka}`,
    `bridge: ${bridge}`,
  ];
}

function describeIssuers(config: ServiceConfig): string {
  const names = config.auth.issuers.map((i) => `'${i.issuer}'`);
  if (config.auth.localIssuerKeyFile) names.push(`the local issuer (key ${config.auth.localIssuerKeyFile})`);
  return names.join(', ');
}

function stopRequested(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return controller.signal;
}

/**
 * Runs until SIGTERM/SIGINT; false when the service could not start or its embedded devhost's thread died. With LEGACY_LANE=1 the legacy
 * lane runs beside it, fed every envelope the ingest API commits (legacy/README.md); its bad settings
 * throw LaneConfigError (exit 2).
 */
export async function runService(config: ServiceConfig): Promise<boolean> {
  const logger = createLogger({ level: config.logLevel, component: 'spacetime-sync' });
  routeSdkLogs(logger);
  for (const line of describePlan(config)) logger.info(line);
  const signal = stopRequested();
  const registry = createMetricsRegistry({ defaultMetrics: true });
  let lane: LegacyLane | undefined;
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    lane = await startEmbeddedLegacyLane(process.env, config.kafka, logger, registry);
    service = await startService(config, logger, {
      registry,
      signal,
      ...(lane ? { acceptedSink: lane.mirror } : {}),
    });
  } catch (e) {
    await lane?.stop();
    if (e instanceof LaneConfigError) throw e;
    if (e instanceof StartAborted) {
      logger.info('stopped');
      return true;
    }
    const err = e as NodeJS.ErrnoException & { port?: number };
    if (err.code === 'EADDRINUSE')
      logger.fatal(`port ${err.port} is already in use; choose others with DEVHOST_PORT / INGEST_PORT`);
    else logger.fatal({ err: err.message }, `could not start: ${err.message}`);
    return false;
  }
  const spacetimeUri = service.spacetimeUrl.replace(/^http/, 'ws');
  logger.info(
    { spacetimedb: spacetimeUri, database: service.database },
    `listening: SpacetimeDB ${spacetimeUri} (database '${service.database}')`,
  );
  logger.info(
    { url: service.httpUrl },
    `listening: ingest + /metrics /healthz /readyz on ${service.httpUrl}${config.auth.openOps.size < 3 ? ' (operations endpoints need a token)' : ''}`,
  );
  const file = localServicePath();
  writeLocalService({
    pid: process.pid,
    url: service.httpUrl,
    spacetimedb: {
      uri: spacetimeUri,
      database: service.database,
      shards: service.shards
        .all()
        .map((x) => ({ name: x.name, uri: x.uri.replace(/^http/, 'ws'), database: x.database })),
    },
    ...(service.devhost ? { ownerToken: service.devhost.ownerToken } : {}),
    ...(config.auth.localIssuerKeyFile
      ? { auth: { keyFile: config.auth.localIssuerKeyFile, audience: config.auth.audience } }
      : {}),
    ...(config.kafka ? { kafka: { brokers: config.kafka.brokers, topics: config.kafka.topics } } : {}),
  });
  logger.info(
    { file },
    `local: address${service.devhost ? ', owner token' : ''}${config.auth.localIssuerKeyFile ? ' and local token issuer' : ''} for the CLI on this machine in ${file} (mode 0600)`,
  );
  if (lane) logger.info({ url: lane.url }, `legacy lane listening on ${lane.url}`);
  logger.info('ready');
  // Runs until SIGTERM/SIGINT, or until the embedded devhost's thread dies (its thread logged why at
  // fatal): nothing can be committed any more, so the service stops and the command exits 1.
  const died = await Promise.race([
    new Promise<undefined>((resolve) => {
      if (signal.aborted) resolve(undefined);
      else signal.addEventListener('abort', () => resolve(undefined), { once: true });
    }),
    ...(service.devhost ? [service.devhost.failure] : []),
  ]);
  logger.info(died ? 'stopping: the embedded devhost is gone' : 'stopping (finishing in-flight work)');
  removeLocalService();
  await service.stop();
  await lane?.stop();
  logger.info('stopped');
  return died === undefined;
}
