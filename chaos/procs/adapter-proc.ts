/** One adapter: a real `spacetime-sync start` process writing to an external SpacetimeDB. */
import { cleanEnv, type Proc, startProc } from './child.js';
import { BIN } from './devhost-proc.js';

export interface AdapterSettings {
  readonly spacetimeUri: string;
  readonly database: string;
  readonly token: string;
  readonly brokers: string;
  readonly topic: string;
  readonly groupId: string;
  readonly deadLetterTopic: string;
  /** Extra environment (e.g. credentials other features add). */
  readonly env?: Record<string, string>;
}

export function startAdapterProc(name: string, s: AdapterSettings): Proc {
  return startProc(
    name,
    process.execPath,
    [BIN, 'start'],
    cleanEnv({
      SPACETIMEDB_URI: s.spacetimeUri,
      SPACETIMEDB_DB: s.database,
      SPACETIMEDB_TOKEN: s.token,
      KAFKA_BROKERS: s.brokers,
      KAFKA_TOPICS: s.topic,
      KAFKA_GROUP_ID: s.groupId,
      KAFKA_DEAD_LETTER_TOPIC: s.deadLetterTopic,
      // The brokers' minimum: a killed adapter's partitions move to the others after 6 s.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_WATCHDOG_MS: '15000',
      INGEST_PORT: '0',
      LOG_LEVEL: 'info',
      ...s.env,
    }),
  );
}

/** Resolves when the service logged `ready` (its Kafka consumer has joined the group). */
export async function adapterReady(p: Proc, timeoutMs = 90_000): Promise<void> {
  await p.waitFor(/"msg":"ready"/, timeoutMs);
}
