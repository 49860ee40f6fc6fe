/**
 * The running service: SpacetimeDB (embedded devhost unless configured), the writer, the HTTP
 * listener with the Connect ingest API, and the Kafka source when brokers are configured. `stop()`
 * is the graceful path SIGTERM takes: stop fetching, finish and commit what is in flight, close.
 *
 * This file is the lifecycle wiring only: the order of the start steps and what each hands the
 * next. Each step, one subsystem, is a file in ./start/.
 */

import type { Logger } from 'pino';
import { setGlobalLogLevel } from 'spacetimedb';
import type { ParityShadow } from '../parity/shadow/shadow.js';
import { warmHttpParser } from '../shared/http-parser-warmup.js';
import { createAuthenticator } from './auth/setup.js';
import type { RunningBridge } from './bridge/start-bridge.js';
import type { ServiceConfig } from './config.js';
import type { CutoverController } from './cutover/controller.js';
import type { EmbeddedDevhost } from './embedded-devhost.js';
import type { KafkaSource } from './kafka/kafka-source.js';
import { createAdapterMetrics } from './metrics.js';
import type { AcceptedEnvelopeSink } from './ports/accepted-envelopes.js';
import { ServiceLifecycle } from './service-lifecycle.js';
import type { ShardSet } from './shards/shard-set.js';
import type { SpacetimeWriter } from './spacetime/writer.js';
import { startBridgeWorker } from './start/bridge.js';
import { openTokenIssuer, trustTokenIssuer } from './start/client-tokens.js';
import { createCutover } from './start/cutover.js';
import { startListener } from './start/http.js';
import { startKafka } from './start/kafka.js';
import { startParityShadow } from './start/parity-shadow.js';
import { startProbe } from './start/probe.js';
import { openShards, untilConnected } from './start/shards.js';
import { spacetimeTargets } from './start/spacetime-targets.js';
import { tlsMaterial } from './start/tls-material.js';
import { createMetricsRegistry, type Registry } from './telemetry/metrics.js';

export { StartAborted } from './service-lifecycle.js';
export { WRITER_TOKEN_FILE } from './start/spacetime-targets.js';

export interface RunningService {
  readonly spacetimeUrl: string;
  readonly database: string;
  readonly httpUrl: string;
  readonly devhost?: EmbeddedDevhost;
  /** The primary shard's writer (the only one when unsharded). */
  readonly writer: SpacetimeWriter;
  /** Every shard's writer and the routing (./shards/shard-set.ts). */
  readonly shards: ShardSet;
  readonly kafka?: KafkaSource;
  /** The Nostr bridge: one worker per shard, each draining its shard's outbox. */
  readonly bridge?: RunningBridge;
  readonly cutover: CutoverController;
  stop(): Promise<void>;
}

export async function startService(
  config: ServiceConfig,
  logger: Logger,
  /** `signal`: a stop requested while starting (e.g. waiting for Kafka topics) ends the start. */
  options: {
    defaultMetrics?: boolean;
    registry?: Registry;
    acceptedSink?: AcceptedEnvelopeSink;
    signal?: AbortSignal;
  } = {},
): Promise<RunningService> {
  const startedAtMs = Date.now();
  // Before any fetch (issuer JWKS, the SDK's connects): a first connection closed by its peer would
  // otherwise hang unseen on Node 20 (../shared/http-parser-warmup.ts).
  await warmHttpParser();
  // Keys and certificates first: a bad file stops the start before anything listens.
  const authenticator = await createAuthenticator(config.auth);
  const tls = tlsMaterial(config);
  // The SDK logs to the console on its own; the service's logs are pino's.
  setGlobalLogLevel('warn');
  // The lifecycle (./service-machine.ts): a part is recorded once it started (stop() stops it), a
  // failed step stops what started, and the state is re-checked after every await. Every step below
  // records its parts with `life.started`, so stop() stops them newest first.
  const life = new ServiceLifecycle(options.signal);
  const { devhost, targets } = await spacetimeTargets(config.spacetime, logger, life);
  const registry =
    options.registry ?? createMetricsRegistry({ defaultMetrics: options.defaultMetrics ?? true });
  const metrics = createAdapterMetrics(registry);
  const shards = openShards(targets, config, metrics, logger, life);
  // What is not per stream (cutover state, probe, shadow, GetStatus) uses the primary shard.
  const primary = shards.primary;
  if (config.kafka) metrics.enableKafkaConsumerMetrics();
  // Started later; the readiness, the admin service and the cutover read them once they exist.
  let kafka: KafkaSource | undefined;
  let shadow: ParityShadow | undefined;
  const readiness = () =>
    life.readiness({
      spacetimeConnected: primary.writer.isConnected,
      ...(shards.problem !== undefined ? { spacetimeProblem: shards.problem } : {}),
      ...(targets.length > 1 ? { shardsDown: shards.down() } : {}),
      commitProblems: devhost?.commitProblems() ?? [],
      ...(config.kafka
        ? { kafka: { ready: kafka?.ready === true, state: kafka ? kafka.status().state : 'not started' } }
        : {}),
    });
  const cutover = createCutover({
    config,
    primary,
    registry,
    logger,
    life,
    kafkaRunning: () => kafka !== undefined,
    legacyLane: () => shadow?.legacyLane(),
  });
  const issuer = await openTokenIssuer(config, shards, logger, life);
  const http = await startListener({
    config,
    authenticator,
    tls,
    registry,
    metrics,
    shards,
    devhost,
    cutover: cutover.controller,
    issuer,
    acceptedSink: options.acceptedSink,
    kafka: () => kafka,
    readiness,
    startedAtMs,
    logger,
    life,
  });
  // Every shard: the Kafka loop places a partition by every shard's cursor.
  await untilConnected(life, (ms) => shards.waitConnected(ms));
  await untilConnected(life, (ms) => cutover.store.waitLive(ms));
  // The baseline the epoch-change counter compares later scrapes with.
  metrics.refreshStreams(shards.streams());
  if (issuer)
    await trustTokenIssuer({ issuer, httpUrl: http.url, authenticator, devhost, shards, logger, life });
  if (config.kafka) {
    const k = config.kafka;
    await startKafka({ kafka: k, shards, metrics, logger, life, created: (s) => (kafka = s) });
  }
  if (config.probeIntervalMs)
    startProbe({ intervalMs: config.probeIntervalMs, primary, metrics, logger, life });
  const bridge = config.bridge
    ? await startBridgeWorker({
        bridge: config.bridge,
        shards: shards.all(),
        embedded: devhost !== undefined,
        registry,
        logger,
        life,
      })
    : undefined;
  if (config.parityShadow)
    shadow = await startParityShadow({ parityShadow: config.parityShadow, shards, registry, logger, life });
  await cutover.controller.start();
  life.started(async () => cutover.controller.stop());
  await life.running();
  return {
    spacetimeUrl: primary.uri,
    database: primary.database,
    httpUrl: http.url,
    ...(devhost ? { devhost } : {}),
    writer: primary.writer,
    shards,
    ...(kafka ? { kafka } : {}),
    ...(bridge ? { bridge } : {}),
    cutover: cutover.controller,
    /** Stops the parts newest first (shadow, bridge, probe, Kafka, HTTP, writer, devhost); idempotent. */
    stop: () => life.stop(),
  };
}
