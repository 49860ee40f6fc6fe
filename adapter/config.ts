/**
 * Service configuration, read once from the environment and validated up front: a typo in a broker
 * list should stop the process at start with a message naming the variable, not surface minutes later
 * as a connection error.
 */

import { type ShadowConfig, shadowConfig } from '../parity/shadow/config.js';
import { embeddedShardCount, type RemoteShard, remoteShards, shardMoves } from '../shared/shards/config.js';
import type { ShardMove } from '../shared/shards/route.js';
import { type AuthConfig, loadAuthConfig, type TlsFiles, tlsFiles } from './auth/config.js';
import { type BridgeConfig, BridgeConfigError, loadBridgeConfig } from './bridge/bridge-config.js';
import { type CutoverConfig, cutoverConfig } from './cutover/config.js';
import type { DevhostThreadMode } from './embedded-devhost.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest/ingest-limits.js';
import { type KafkaSecurity, kafkaSecurity } from './kafka/security-config.js';
import { DEFAULT_MAX_IN_FLIGHT } from './spacetime/call-window.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './spacetime/connect-deadline.js';
import { type ClientTokenConfig, loadClientTokenConfig } from './tokens/config.js';

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly topics: readonly string[];
  readonly groupId: string;
  readonly deadLetterTopic: string;
  /** No-progress watchdog: restart the consumer after this long without a commit. */
  readonly watchdogMs: number;
  /** Backpressure: pause fetching past this many fetched-but-uncommitted events; resume at half. */
  readonly maxInFlight: number;
  /** Events per append_sync_events call (KAFKA_MAX_BATCH_EVENTS); see DEFAULT_KAFKA_MAX_BATCH. */
  readonly maxBatch?: number;
  /** Partitions whose batches run at once (KAFKA_PARTITIONS_CONCURRENTLY); see DEFAULT_KAFKA_PARTITIONS_CONCURRENTLY. */
  readonly partitionsConcurrently?: number;
  /** Reducer calls in flight per partition (KAFKA_PARTITION_CALLS_IN_FLIGHT); see DEFAULT_KAFKA_PARTITION_CALLS_IN_FLIGHT. */
  readonly partitionCallsInFlight?: number;
  /** How long the group waits for a silent member (a killed adapter) before reassigning its partitions. */
  readonly sessionTimeoutMs: number;
  /** Create missing topics (consumed and dead-letter) at start instead of waiting for them. */
  readonly createTopics?: boolean;
  /** Attempts a write may fail without a module reason before its envelope is dead-lettered. */
  readonly unexplainedRetries?: number;
  /** TLS and SASL to the brokers (kafka/security-config.ts); absent: plaintext, no authentication. */
  readonly security?: KafkaSecurity;
}

/**
 * Where the embedded devhost runs when DEVHOST_THREAD is unset: its own worker thread. Measured
 * side by side (README "Measured"): see the figures there for why this is the default.
 */
/**
 * Events per reducer call from Kafka. Each call waits for its group fsync before the partition's
 * next one is sent, so calls of 1,000 rather than 200 leave the host less idle per event (measured:
 * bench/results/profile-2026-12-01-adapter.md); the bound keeps one call's transaction and answer
 * moderate (a call also stops at 4 MiB of envelopes, adapter/kafka/shard-lane.ts).
 */
export const DEFAULT_KAFKA_MAX_BATCH = 1_000;
const MAX_KAFKA_MAX_BATCH = 10_000;

/**
 * Partitions a consumer works on at once; with DEFAULT_KAFKA_PARTITION_CALLS_IN_FLIGHT this bounds
 * the calls in flight from Kafka.
 */
export const DEFAULT_KAFKA_PARTITIONS_CONCURRENTLY = 4;

/**
 * Reducer calls of one partition's batch in flight at once (adapter/kafka/lane-window.ts): each
 * names the cursor its predecessor leaves and the module applies it only after that one, so the
 * order and exactly-once hold; 1 sends them one after the other.
 */
export const DEFAULT_KAFKA_PARTITION_CALLS_IN_FLIGHT = 4;

export const DEFAULT_DEVHOST_THREAD: DevhostThreadMode = 'worker';

export type SpacetimeTarget =
  /** The in-process devhost hosting the sync module: the zero-setup default. */
  | {
      readonly kind: 'embedded';
      readonly port: number;
      readonly dataDir?: string;
      /** `start --truncate-corrupt`: cut a commit log damaged in the middle instead of refusing to start. */
      readonly truncateCorrupt?: boolean;
      /** How long devhost keeps a trusted issuer's fetched JWKS (default 60 s, the JWKS's max-age). */
      readonly oidcKeyCacheMs?: number;
      /** Databases the devhost hosts, one per shard (`SPACETIMEDB_SHARD_COUNT`); absent = 1. */
      readonly shardCount?: number;
      /** `DEVHOST_THREAD`: its own worker thread or the service's thread; absent = DEFAULT_DEVHOST_THREAD. */
      readonly thread?: DevhostThreadMode;
      /** `DEVHOST_THREAD_HEAP_MB`: the worker thread's old-generation heap limit; absent = V8's default. */
      readonly threadHeapMb?: number;
    }
  /** A real SpacetimeDB: one database, the only shard (`shard-0`). */
  | { readonly kind: 'remote'; readonly uri: string; readonly database: string; readonly token?: string }
  /** Real SpacetimeDB databases, one per shard (`SPACETIMEDB_SHARDS`), written with one token. */
  | { readonly kind: 'sharded'; readonly shards: readonly RemoteShard[]; readonly token?: string };

export interface ServiceConfig {
  readonly kafka?: KafkaConfig;
  readonly spacetime: SpacetimeTarget;
  /** The HTTP listener (Connect ingest + AdminService, /metrics, /healthz, /readyz); TLS when set. */
  readonly ingest: {
    readonly host: string;
    readonly port: number;
    readonly tls?: TlsFiles;
    /** Request bounds (ingest/ingest-limits.ts); the defaults when absent. */
    readonly limits?: IngestLimits;
  };
  /** Who may call the listener (README "Security"); adapter/auth/config.ts reads it. */
  readonly auth: AuthConfig;
  /** The client-token issuer (TokenService, JWKS); absent: MintClientToken is refused. */
  readonly clientTokens?: ClientTokenConfig;
  readonly logLevel: string;
  /** Delivery probe interval (fan-out latency metric); 0 or absent = no probe. */
  readonly probeIntervalMs?: number;
  /** Reducer calls each shard's writer keeps in flight at once (`SPACETIMEDB_MAX_IN_FLIGHT`). */
  readonly writerMaxInFlight?: number;
  /**
   * One SpacetimeDB connection attempt's bound, for every connection the service opens (writer,
   * cutover store, delivery probe, bridge): `SPACETIMEDB_CONNECT_TIMEOUT_MS`, default 15 s.
   */
  readonly spacetimeConnectTimeoutMs?: number;
  /** The Nostr bridge worker; on when BRIDGE_NOSTR_RELAYS is set. */
  readonly bridge?: BridgeConfig;
  /** Shadow parity against the legacy lane (PARITY_SHADOW=1); absent = off. */
  readonly parityShadow?: ShadowConfig;
  /** Streams a reshard moved (`SPACETIMEDB_SHARD_MOVES_FILE`): they route to their new shard. */
  readonly shardMoves?: readonly ShardMove[];
  /** The cutover controller's gate thresholds, window and tick (CUTOVER_*); absent = the defaults. */
  readonly cutover?: CutoverConfig;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const DEFAULTS = {
  topics: ['authority.events'],
  groupId: 'spacetime-sync',
  deadLetterTopic: 'spacetime-sync.dead-letter',
  devhostPort: 3000,
  ingestPort: 8080,
  host: '127.0.0.1',
  logLevel: 'info',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

function list(env: Env, name: string): string[] | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(name, `'${raw}' is not a port (0-65535; 0 picks a free one)`);
  }
  return n;
}

function brokers(env: Env): string[] | undefined {
  const items = list(env, 'KAFKA_BROKERS');
  for (const b of items ?? []) {
    if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(b)) {
      throw new ConfigError(
        'KAFKA_BROKERS',
        `'${b}' is not host:port (example: 127.0.0.1:9092,10.0.0.2:9092)`,
      );
    }
  }
  return items;
}

function spacetime(env: Env): SpacetimeTarget {
  const uri = env.SPACETIMEDB_URI?.trim();
  const database = env.SPACETIMEDB_DB?.trim();
  const fail = (variable: string, message: string) => new ConfigError(variable, message);
  const shards = remoteShards(env, fail);
  if (shards) {
    const token = env.SPACETIMEDB_TOKEN?.trim();
    return { kind: 'sharded', shards, ...(token ? { token } : {}) };
  }
  const shardCount = embeddedShardCount(env, fail);
  if (!uri) {
    if (database) throw new ConfigError('SPACETIMEDB_URI', 'required when SPACETIMEDB_DB is set');
    const dataDir = env.DEVHOST_DATA_DIR?.trim();
    const thread = env.DEVHOST_THREAD?.trim();
    if (thread && thread !== 'worker' && thread !== 'inline')
      throw new ConfigError('DEVHOST_THREAD', `'${thread}' is neither 'worker' nor 'inline'`);
    return {
      kind: 'embedded',
      port: port(env, 'DEVHOST_PORT', DEFAULTS.devhostPort),
      ...(dataDir ? { dataDir } : {}),
      ...(thread ? { thread: thread as DevhostThreadMode } : {}),
      ...(env.DEVHOST_THREAD_HEAP_MB?.trim()
        ? { threadHeapMb: positiveInt(env, 'DEVHOST_THREAD_HEAP_MB', 0) }
        : {}),
      ...(shardCount > 1 ? { shardCount } : {}),
    };
  }
  if (!/^(wss?|https?):\/\/[^/\s]+/.test(uri)) {
    throw new ConfigError('SPACETIMEDB_URI', `'${uri}' must be a ws://, wss://, http:// or https:// URL`);
  }
  if (!database) throw new ConfigError('SPACETIMEDB_DB', 'required when SPACETIMEDB_URI is set');
  const token = env.SPACETIMEDB_TOKEN?.trim();
  return { kind: 'remote', uri, database, ...(token ? { token } : {}) };
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(name, `'${raw}' is not a positive integer`);
  return n;
}

function atMost(env: Env, name: string, fallback: number, max: number): number {
  const n = positiveInt(env, name, fallback);
  if (n > max) throw new ConfigError(name, `${n} is more than the most allowed, ${max}`);
  return n;
}

function nonNegativeInt(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(name, `'${raw}' is not a whole number (0 turns it off)`);
  return n;
}

function flag(env: Env, name: string): boolean {
  const raw = env[name]?.trim();
  if (!raw || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(name, `'${raw}' is not 1/true or 0/false`);
}

/**
 * Kafka brokers refuse session timeouts below group.min.session.timeout.ms (6 s by default): a
 * lower one is refused here with that reason, unless KAFKA_BROKER_MIN_SESSION_TIMEOUT_MS says the
 * brokers were configured with a lower minimum (the chaos runs' broker).
 */
function sessionTimeout(env: Env): number {
  const ms = positiveInt(env, 'KAFKA_SESSION_TIMEOUT_MS', 15_000);
  const min = positiveInt(env, 'KAFKA_BROKER_MIN_SESSION_TIMEOUT_MS', 6_000);
  if (ms < min)
    throw new ConfigError('KAFKA_SESSION_TIMEOUT_MS', `${ms} is below the brokers' ${min} ms minimum`);
  return ms;
}

function bridgeConfig(env: Env): BridgeConfig | undefined {
  try {
    return loadBridgeConfig(env);
  } catch (e) {
    if (e instanceof BridgeConfigError) throw new ConfigError(e.variable, e.detail);
    throw e;
  }
}

function securityOrUndefined(env: Env): KafkaSecurity | undefined {
  const s = kafkaSecurity(env, (variable, message) => new ConfigError(variable, message));
  return s.tls || s.sasl ? s : undefined;
}

/** Read and validate the configuration; throws ConfigError naming the offending variable. */
export function loadConfig(env: Env = process.env): ServiceConfig {
  const logLevel = env.LOG_LEVEL?.trim() || DEFAULTS.logLevel;
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `'${logLevel}' is not one of ${[...LOG_LEVELS].join(', ')}`);
  }
  const kafkaBrokers = brokers(env);
  const kafka: KafkaConfig | undefined = kafkaBrokers
    ? {
        brokers: kafkaBrokers,
        topics: list(env, 'KAFKA_TOPICS') ?? [...DEFAULTS.topics],
        groupId: env.KAFKA_GROUP_ID?.trim() || DEFAULTS.groupId,
        deadLetterTopic: env.KAFKA_DEAD_LETTER_TOPIC?.trim() || DEFAULTS.deadLetterTopic,
        watchdogMs: positiveInt(env, 'KAFKA_WATCHDOG_MS', 60_000),
        maxInFlight: positiveInt(env, 'KAFKA_MAX_IN_FLIGHT', 5_000),
        maxBatch: atMost(env, 'KAFKA_MAX_BATCH_EVENTS', DEFAULT_KAFKA_MAX_BATCH, MAX_KAFKA_MAX_BATCH),
        partitionsConcurrently: atMost(
          env,
          'KAFKA_PARTITIONS_CONCURRENTLY',
          DEFAULT_KAFKA_PARTITIONS_CONCURRENTLY,
          64,
        ),
        partitionCallsInFlight: atMost(
          env,
          'KAFKA_PARTITION_CALLS_IN_FLIGHT',
          DEFAULT_KAFKA_PARTITION_CALLS_IN_FLIGHT,
          64,
        ),
        sessionTimeoutMs: sessionTimeout(env),
        createTopics: flag(env, 'KAFKA_CREATE_TOPICS'),
        unexplainedRetries: positiveInt(env, 'KAFKA_UNEXPLAINED_RETRIES', 5),
        ...optional('security', securityOrUndefined(env)),
      }
    : undefined;
  const bridge = bridgeConfig(env);
  const target = spacetime(env);
  const fail = (variable: string, message: string) => new ConfigError(variable, message);
  const host = env.INGEST_HOST?.trim() || DEFAULTS.host;
  const tls = tlsFiles(env, fail);
  return {
    ...(kafka ? { kafka } : {}),
    ...(bridge ? { bridge } : {}),
    spacetime: target,
    ...optional('shardMoves', movesOrUndefined(env)),
    ingest: {
      host,
      port: port(env, 'INGEST_PORT', DEFAULTS.ingestPort),
      ...(tls ? { tls } : {}),
      limits: {
        maxBodyBytes: positiveInt(env, 'INGEST_MAX_BODY_BYTES', DEFAULT_INGEST_LIMITS.maxBodyBytes),
        maxQueued: positiveInt(env, 'INGEST_MAX_QUEUED', DEFAULT_INGEST_LIMITS.maxQueued),
        jsonMaxDepth: positiveInt(env, 'INGEST_JSON_MAX_DEPTH', DEFAULT_INGEST_LIMITS.jsonMaxDepth),
      },
    },
    auth: loadAuthConfig(env, host, tls, fail),
    clientTokens: loadClientTokenConfig(env, fail),
    logLevel,
    probeIntervalMs: nonNegativeInt(env, 'PROBE_INTERVAL_MS', 10_000),
    writerMaxInFlight: positiveInt(env, 'SPACETIMEDB_MAX_IN_FLIGHT', DEFAULT_MAX_IN_FLIGHT),
    spacetimeConnectTimeoutMs: positiveInt(env, 'SPACETIMEDB_CONNECT_TIMEOUT_MS', DEFAULT_CONNECT_TIMEOUT_MS),
    cutover: cutoverConfig(env, (variable, message) => new ConfigError(variable, message)),
    ...optional(
      'parityShadow',
      shadowConfig(env, (variable, message) => new ConfigError(variable, message)),
    ),
  };
}

function movesOrUndefined(env: Env): ShardMove[] | undefined {
  const moves = shardMoves(env, (variable, message) => new ConfigError(variable, message));
  return moves.length > 0 ? moves : undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

/** For commands: the configuration, or undefined after printing why it is invalid (exit code 2). */
export function loadConfigOrReport(env: Env = process.env): ServiceConfig | undefined {
  try {
    return loadConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`spacetime-sync: invalid configuration: ${e.message}`);
    return undefined;
  }
}
