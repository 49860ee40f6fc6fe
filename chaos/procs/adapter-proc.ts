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
  /**
   * The group session timeout (default 6000, Kafka's minimum) and, when lower, the broker's lowered
   * group.min.session.timeout.ms it may use (chaos runs: a killed adapter's partitions move sooner).
   */
  readonly session?: { readonly timeoutMs: number; readonly brokerMinMs: number };
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
      // The brokers' minimum unless lowered: a killed adapter's partitions move to the others after it.
      KAFKA_SESSION_TIMEOUT_MS: String(s.session?.timeoutMs ?? 6_000),
      ...(s.session ? { KAFKA_BROKER_MIN_SESSION_TIMEOUT_MS: String(s.session.brokerMinMs) } : {}),
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
