import { ConfigError, loadConfig, type ServiceConfig } from '../config.ts';

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
 * `spacetime-sync start`. Until the adapter lands (issue 5) this validates the configuration and
 * prints what the service will run, then exits: the command already fails fast on bad settings.
 */
export async function runStart(argv: string[]): Promise<number> {
  if (argv.length > 0) {
    console.error(`spacetime-sync start: takes no arguments (got ${argv.join(' ')}); configure with env`);
    return 2;
  }
  let config: ServiceConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`spacetime-sync: invalid configuration: ${e.message}`);
      return 2;
    }
    throw e;
  }
  for (const line of describePlan(config)) console.log(line);
  console.log('spacetime-sync: the adapter is not built yet (issue 5); nothing is started.');
  return 0;
}
