/**
 * The running service: SpacetimeDB (embedded devhost unless configured), the writer, the HTTP
 * listener with the Connect ingest API, and the Kafka source when brokers are configured. `stop()`
 * is the graceful path SIGTERM takes: stop fetching, finish and commit what is in flight, close.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Devhost } from '@spacetime-sync/devhost';
import type { Logger } from 'pino';
import { setGlobalLogLevel } from 'spacetimedb';
import { isSyncError } from '../shared/errors/sync-error.js';
import { embeddedDatabase, embeddedShardNames, FIRST_SHARD } from '../shared/shards/config.js';
import { adminService } from './admin/admin-service.js';
import { cutoverRpcs } from './admin/cutover-rpcs.js';
import { FailureLimiter } from './auth/failure-limiter.js';
import { authFailureCounter } from './auth/failures.js';
import { createAuthenticator } from './auth/setup.js';
import type { BridgeWorker } from './bridge/bridge-worker.js';
import type { ServiceConfig } from './config.js';
import { cutoverConfig } from './cutover/config.js';
import { CutoverController } from './cutover/controller.js';
import { CutoverStore } from './cutover/store.js';
import { EMBEDDED_DATABASE, startEmbeddedDevhost } from './embedded-devhost.js';
import { authGate } from './http/auth-gate.js';
import { startHttpServer, type TlsMaterial } from './http/http-server.js';
import { DEFAULT_INGEST_LIMITS } from './ingest/ingest-limits.js';
import { ingestService } from './ingest/ingest-service.js';
import { KafkaSource } from './kafka/kafka-source.js';
import { waitForTopics } from './kafka/topic-readiness.js';
import { createAdapterMetrics } from './metrics.js';
import type { AcceptedEnvelopeSink } from './ports/accepted-envelopes.js';
import { ServiceLifecycle } from './service-lifecycle.js';
import { ShardSet, type ShardTarget } from './shards/shard-set.js';
import { SpacetimeRefusedError } from './spacetime/connect-refusal.js';
import { DeliveryProbe, PROBE_STREAM } from './spacetime/delivery-probe.js';
import type { SpacetimeWriter } from './spacetime/writer.js';
import { provisionWriter } from './spacetime/writer-identity.js';
import { createMetricsRegistry, type Registry } from './telemetry/metrics.js';
import { startTokenIssuer } from './tokens/start.js';
import { tokenServiceOff } from './tokens/token-service.js';

/** The embedded writer identity's token, in the devhost data dir (0600), so restarts keep the identity. */
export const WRITER_TOKEN_FILE = 'writer-token';

export { StartAborted } from './service-lifecycle.js';

export interface RunningService {
  readonly spacetimeUrl: string;
  readonly database: string;
  readonly httpUrl: string;
  readonly devhost?: Devhost;
  /** The primary shard's writer (the only one when unsharded). */
  readonly writer: SpacetimeWriter;
  /** Every shard's writer and the routing (./shards/shard-set.ts). */
  readonly shards: ShardSet;
  readonly kafka?: KafkaSource;
  readonly bridge?: BridgeWorker;
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
  // Keys and certificates first: a bad file stops the start before anything listens.
  const authenticator = await createAuthenticator(config.auth);
  const tls = tlsMaterial(config);
  // The SDK logs to the console on its own; the service's logs are pino's.
  setGlobalLogLevel('warn');
  // The lifecycle (./service-machine.ts): a part is recorded once it started (stop() stops it), a
  // failed step stops what started, and the state is re-checked after every await.
  const life = new ServiceLifecycle(options.signal);
  let devhost: Devhost | undefined;
  let targets: ShardTarget[];
  const st = config.spacetime;
  if (st.kind === 'embedded') {
    const d = await startEmbeddedDevhost(
      {
        port: st.port,
        ...(st.dataDir ? { dataDir: st.dataDir } : {}),
        ...(st.truncateCorrupt ? { truncateCorrupt: true } : {}),
        ...(st.oidcKeyCacheMs !== undefined ? { oidcKeyCacheMs: st.oidcKeyCacheMs } : {}),
        ...(st.shardCount ? { shardCount: st.shardCount } : {}),
      },
      logger,
    ).catch(life.failed);
    life.started(() => d.stop());
    await life.checkpoint();
    devhost = d;
    targets = [];
    for (const [i, name] of embeddedShardNames(st.shardCount ?? 1).entries()) {
      const database = embeddedDatabase(EMBEDDED_DATABASE, i);
      // The owner token is used for this setup step only; the service writes as a granted writer
      // (one identity, kept in the data dir, granted on every shard's database).
      const writerIdentity = await provisionWriter({
        uri: d.url,
        database,
        ownerToken: d.ownerToken,
        ...(st.dataDir ? { tokenFile: join(st.dataDir, WRITER_TOKEN_FILE) } : {}),
      }).catch(life.failed);
      await life.checkpoint();
      targets.push({ name, uri: d.url, database, token: writerIdentity.token });
      logger.info(
        { identity: writerIdentity.identityHex, shard: name },
        'writing as a granted writer identity',
      );
    }
  } else if (st.kind === 'remote') {
    targets = [
      { name: FIRST_SHARD, uri: st.uri, database: st.database, ...(st.token ? { token: st.token } : {}) },
    ];
  } else {
    targets = st.shards.map((t) => {
      const shardToken = t.token ?? st.token;
      return { name: t.name, uri: t.uri, database: t.database, ...(shardToken ? { token: shardToken } : {}) };
    });
  }
  const registry =
    options.registry ?? createMetricsRegistry({ defaultMetrics: options.defaultMetrics ?? true });
  const metrics = createAdapterMetrics(registry);
  const connectedBefore = new Set<string>();
  // Every shard's writer starts connecting now and retries with capped backoff for as long as its
  // shard is away; the HTTP listener comes up first so /readyz can say why the service is not ready.
  const shards = ShardSet.open(targets, {
    logger: logger.child({ subsystem: 'spacetimedb' }),
    ...(config.shardMoves ? { moves: config.shardMoves } : {}),
    onConnected: (shard) => {
      if (connectedBefore.has(shard)) metrics.spacetimeReconnects.inc();
      connectedBefore.add(shard);
    },
  });
  life.started(() => shards.close());
  // What is not per stream (cutover state, probe, bridge, shadow, GetStatus) uses the primary shard.
  const writer = shards.primary.writer;
  const { uri, database } = shards.primary;
  const token = shards.primary.token;
  logger.info({ shards: targets.map((t) => `${t.name}=${t.uri}/${t.database}`) }, 'shards');
  if (config.kafka) metrics.enableKafkaConsumerMetrics();
  let kafka: KafkaSource | undefined;
  const readiness = () =>
    life.readiness({
      spacetimeConnected: writer.isConnected,
      ...(shards.problem !== undefined ? { spacetimeProblem: shards.problem } : {}),
      ...(targets.length > 1 ? { shardsDown: shards.down() } : {}),
      commitProblems: devhost?.commitProblems() ?? [],
      ...(config.kafka
        ? { kafka: { ready: kafka?.ready === true, state: kafka ? kafka.status().state : 'not started' } }
        : {}),
    });
  let shadow: import('../parity/shadow/shadow.js').ParityShadow | undefined;
  // The stage lives in SpacetimeDB: a restarted service resumes it from there.
  const cutoverStore = CutoverStore.connecting({
    uri,
    database,
    ...(token ? { token } : {}),
    logger: logger.child({ subsystem: 'cutover' }),
  });
  life.started(async () => cutoverStore.close());
  const cutover = new CutoverController({
    store: cutoverStore,
    registry,
    config: config.cutover ?? cutoverConfig({}, (v, m) => new Error(`${v}: ${m}`)),
    logger: logger.child({ subsystem: 'cutover' }),
    kafkaRunning: () => kafka !== undefined,
    ...(config.parityShadow ? { parityGraceMs: config.parityShadow.graceMs } : {}),
    // Shadow parity's legacy client is the service's one link to the legacy lane (started below).
    legacyLane: () => shadow?.legacyLane(),
  });
  const limits = config.ingest.limits ?? DEFAULT_INGEST_LIMITS;
  // Read by the cutover's auth-failures gate (adapter/cutover/live-figures.ts) by name.
  const authFailures = authFailureCounter(registry);
  const issuer = config.clientTokens
    ? startTokenIssuer(config.clientTokens, logger, (sessionId) => writer.revokeClientSession(sessionId))
    : undefined;
  // The key set is created (or checked) now: a damaged file stops the start, naming it.
  await issuer?.keys.state().catch(life.failed);
  const http = await startHttpServer({
    host: config.ingest.host,
    port: config.ingest.port,
    registry,
    gate: authGate(
      authenticator,
      (why, where, reason) => {
        authFailures.inc({ reason });
        logger.info({ subsystem: 'auth', call: where, why, reason }, 'call refused');
      },
      config.auth.failureLimits ? new FailureLimiter(config.auth.failureLimits) : undefined,
    ),
    openOps: config.auth.openOps,
    ...(tls ? { tls } : {}),
    ingest: ingestService(shards, metrics, options.acceptedSink, logger, limits.maxQueued),
    limits,
    admin: {
      ...adminService({
        writer,
        streamHead: (id) => shards.stream(id),
        metrics,
        spacetime: { uri, database, embedded: devhost !== undefined },
        kafka: () => kafka,
        ...(config.kafka
          ? { kafkaConfig: { groupId: config.kafka.groupId, topics: config.kafka.topics } }
          : {}),
        startedAtMs,
      }),
      ...cutoverRpcs(cutover),
    },
    tokens: issuer ? issuer.service : tokenServiceOff(),
    ...(issuer ? { publicDocument: issuer.publicDocument } : {}),
    beforeScrape: () => {
      metrics.spacetimeConnected.set(shards.down().length === 0 ? 1 : 0);
      for (const s of shards.all())
        metrics.shardConnected.set({ shard: s.name }, s.writer.isConnected ? 1 : 0);
      metrics.ready.set(readiness().ok ? 1 : 0);
      const kafkaState = kafka?.status().state;
      metrics.kafkaConsuming.set(kafkaState === 'consuming' || kafkaState === 'paused' ? 1 : 0);
      metrics.refreshStreams(shards.streams());
    },
    onError: (e) => logger.error({ err: String(e) }, 'Connect call failed while being answered'),
    ready: readiness,
  }).catch(life.failed);
  life.started(() => http.close());
  await life.checkpoint();
  // Every shard: the Kafka loop places a partition by every shard's cursor.
  await untilConnected(life, (ms) => shards.waitConnected(ms));
  await untilConnected(life, (ms) => cutoverStore.waitLive(ms));
  // The baseline the epoch-change counter compares later scrapes with.
  metrics.refreshStreams(shards.streams());
  if (issuer) {
    // SpacetimeDB accepts the service's client tokens, and the module grants their streams.
    const iss = issuer.listening(http.url);
    devhost?.trustIssuer(iss);
    // On every shard: a client token reads its streams wherever they live.
    for (const shard of shards.all()) {
      await shard.writer.trustTokenIssuer(iss, issuer.audience).catch((e: unknown) => {
        // An identity that is not (yet) a writer may still run: it dead-letters what it may not write
        // (runbooks/dead-letters.md) and an owner can grant it later. Only its client tokens wait.
        if (!isSyncError(e, 'unauthorized')) return life.failed(e);
        logger.warn(
          { err: e.message, shard: shard.name },
          'SpacetimeDB refused to trust this service as a token issuer: the client tokens it mints are refused until an owner grants it writer and the service restarts',
        );
      });
    }
    await life.checkpoint();
  }
  if (config.kafka) {
    await waitForTopics({
      brokers: config.kafka.brokers,
      topics: config.kafka.topics,
      create: config.kafka.createTopics === true,
      alsoCreate: [config.kafka.deadLetterTopic],
      ...(config.kafka.security ? { security: config.kafka.security } : {}),
      logger: logger.child({ subsystem: 'kafka' }),
      stopping: () => life.kind !== 'starting',
    }).catch(life.failed);
    await life.checkpoint();
    const source = new KafkaSource({
      ...config.kafka,
      shards: shards.sinks(),
      metrics,
      logger: logger.child({ subsystem: 'kafka' }),
    });
    kafka = source;
    // Recorded before it starts: a stop during its start must stop it too.
    life.started(() => source.stop());
    await source.start().catch(life.failed);
    await life.checkpoint();
  }
  if (config.probeIntervalMs) {
    const probe = new DeliveryProbe({
      uri,
      database,
      ...(token ? { token } : {}),
      writer,
      metrics,
      logger: logger.child({ subsystem: 'probe' }),
      intervalMs: config.probeIntervalMs,
    });
    probe.start();
    life.started(() => probe.stop());
  }
  let bridge: BridgeWorker | undefined;
  if (config.bridge) {
    // Loaded only when configured: the worker pulls in nostr-tools.
    const { startBridge } = await import('./bridge/start-bridge.js');
    await life.checkpoint();
    const b = await startBridge({
      config: config.bridge,
      uri,
      database,
      ...(token ? { serviceToken: token } : {}),
      embedded: devhost !== undefined,
      registry,
      logger: logger.child({ subsystem: 'bridge' }),
    }).catch(life.failed);
    life.started(() => b.stop());
    await life.checkpoint();
    bridge = b;
  }
  if (config.parityShadow) {
    // Loaded only when on. It runs a desktop client (SyncClient) and a legacy-lane client on purpose:
    // shadow parity measures what a resuming client of each lane receives.
    const { ParityShadow } = await import('../parity/shadow/shadow.js');
    await life.checkpoint();
    const s = new ParityShadow({
      config: config.parityShadow,
      candidate: {
        uri,
        database,
        ...(token ? { token } : {}),
        // Sharded: each stream is read from its shard, as a desktop client would (the one routing function).
        ...(targets.length > 1
          ? {
              shards: shards.all().map((s) => ({
                name: s.name,
                uri: s.uri,
                database: s.database,
                ...(s.token ? { token: s.token } : {}),
              })),
            }
          : {}),
        // The shadow reads as the writer identity, which reads what it grants itself (on each stream's shard).
        grant: async (streams) => {
          const byShard = new Map<SpacetimeWriter, string[]>();
          for (const id of streams) {
            const w = shards.of(id).writer;
            byShard.set(w, [...(byShard.get(w) ?? []), id]);
          }
          for (const [w, ids] of byShard) await w.grantSelfRead(ids);
        },
      },
      // The delivery probe's stream is the service's own, not an authority stream: the legacy lane
      // never carries it, and comparing it would count it as unmappable (a parity breach).
      streams: () => [...shards.streams().keys()].filter((s) => s !== PROBE_STREAM),
      registry,
      logger: logger.child({ subsystem: 'parity-shadow' }),
    });
    await s.start().catch(life.failed);
    life.started(() => s.stop());
    await life.checkpoint();
    shadow = s;
  }
  await cutover.start();
  life.started(async () => cutover.stop());
  await life.running();
  return {
    spacetimeUrl: uri,
    database,
    httpUrl: http.url,
    ...(devhost ? { devhost } : {}),
    writer,
    shards,
    ...(kafka ? { kafka } : {}),
    ...(bridge ? { bridge } : {}),
    cutover,
    /** Stops the parts newest first (shadow, bridge, probe, Kafka, HTTP, writer, devhost); idempotent. */
    stop: () => life.stop(),
  };
}

/**
 * Waits as long as SpacetimeDB is away (the links retry by themselves), re-checking for a stop every
 * second; a permanent refusal (./spacetime/connect-refusal.ts) ends the start.
 */
async function untilConnected(life: ServiceLifecycle, wait: (ms: number) => Promise<void>): Promise<void> {
  for (;;) {
    await life.checkpoint();
    try {
      await wait(1_000);
      return;
    } catch (e) {
      if (e instanceof SpacetimeRefusedError) await life.failed(e);
    }
  }
}

function tlsMaterial(config: ServiceConfig): TlsMaterial | undefined {
  const t = config.ingest.tls;
  if (!t) return undefined;
  const read = (variable: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`${variable}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  };
  return {
    cert: read('INGEST_TLS_CERT_FILE', t.certFile),
    key: read('INGEST_TLS_KEY_FILE', t.keyFile),
    ...(t.clientCaFile ? { ca: read('INGEST_TLS_CLIENT_CA_FILE', t.clientCaFile) } : {}),
  };
}
