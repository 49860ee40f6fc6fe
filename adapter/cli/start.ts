import { loadConfigOrReport, type ServiceConfig } from '../config.ts';
import { startService } from '../service.ts';
import { createLogger } from '../telemetry/logger.ts';
import { routeSdkLogs } from '../telemetry/sdk-logs.ts';

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
  return [
    `spacetime-sync: SpacetimeDB  ${target}`,
    `spacetime-sync: ingest       Connect RPC on http://${config.ingest.host}:${config.ingest.port}`,
    `spacetime-sync: kafka        ${kafka}`,
  ];
}

/**
 * `spacetime-sync start`: validates the configuration (bad settings stop it with the variable's name),
 * starts the service, prints where everything listens, and shuts down gracefully on SIGTERM/SIGINT.
 */
export async function runStart(argv: string[]): Promise<number> {
  if (argv.length > 0) {
    console.error(`spacetime-sync start: takes no arguments (got ${argv.join(' ')}); configure with env`);
    return 2;
  }
  const config = loadConfigOrReport();
  if (!config) return 2;
  for (const line of describePlan(config)) console.log(line);
  const logger = createLogger({ level: config.logLevel, component: 'adapter' });
  routeSdkLogs(logger);
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    service = await startService(config, logger);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { port?: number };
    if (err.code === 'EADDRINUSE') {
      console.error(
        `spacetime-sync: port ${err.port} is already in use; choose others with DEVHOST_PORT / INGEST_PORT`,
      );
      return 1;
    }
    console.error(`spacetime-sync: could not start: ${err.message}`);
    return 1;
  }
  console.log(
    `spacetime-sync: listening   SpacetimeDB ${service.spacetimeUrl.replace(/^http/, 'ws')} (database '${service.database}')`,
  );
  console.log(`spacetime-sync: listening   ingest + /metrics /healthz /readyz on ${service.httpUrl}`);
  if (service.devhost) console.log(`spacetime-sync: owner token ${service.devhost.ownerToken}`);
  console.log('spacetime-sync: ready');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  console.log('spacetime-sync: stopping (finishing in-flight work)');
  await service.stop();
  return 0;
}
