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
import { adminService } from './admin/admin-service.js';
import { createAuthenticator } from './auth/setup.js';
import type { BridgeWorker } from './bridge/bridge-worker.js';
import type { ServiceConfig } from './config.js';
import { EMBEDDED_DATABASE, startEmbeddedDevhost } from './embedded-devhost.js';
import { authGate } from './http/auth-gate.js';
import { startHttpServer, type TlsMaterial } from './http/http-server.js';
import { ingestService } from './ingest/ingest-service.js';
import { KafkaSource } from './kafka/kafka-source.js';
import { waitForTopics } from './kafka/topic-readiness.js';
import { createAdapterMetrics } from './metrics.js';
import type { AcceptedEnvelopeSink } from './ports/accepted-envelopes.js';
import { DeliveryProbe } from './spacetime/delivery-probe.js';
import { SpacetimeWriter } from './spacetime/writer.js';
import { provisionWriter } from './spacetime/writer-identity.js';
import { createMetricsRegistry, type Registry } from './telemetry/metrics.js';

/** The embedded writer identity's token, in the devhost data dir (0600), so restarts keep the identity. */
export const WRITER_TOKEN_FILE = 'writer-token';

/** startService was asked to stop before it finished starting; what it had started is stopped. */
export class StartAborted extends Error {
  override readonly name = 'StartAborted';
  constructor() {
    super('stopped while starting');
  }
}

export interface RunningService {
  readonly spacetimeUrl: string;
  readonly database: string;
  readonly httpUrl: string;
  readonly devhost?: Devhost;
  readonly writer: SpacetimeWriter;
  readonly kafka?: KafkaSource;
  readonly bridge?: BridgeWorker;
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
  let devhost: Devhost | undefined;
  let uri: string;
  let database: string;
  let token: string | undefined;
  const st = config.spacetime;
  if (st.kind === 'embedded') {
    devhost = await startEmbeddedDevhost(
      { port: st.port, ...(st.dataDir ? { dataDir: st.dataDir } : {}) },
      logger,
    );
    uri = devhost.url;
    database = EMBEDDED_DATABASE;
    // The owner token is used for this setup step only; the service writes as a granted writer.
    const writerIdentity = await provisionWriter({
      uri,
      database,
      ownerToken: devhost.ownerToken,
      ...(st.dataDir ? { tokenFile: join(st.dataDir, WRITER_TOKEN_FILE) } : {}),
    });
    token = writerIdentity.token;
    logger.info({ identity: writerIdentity.identityHex }, 'writing as a granted writer identity');
  } else {
    uri = st.uri;
    database = st.database;
    token = st.token;
  }
  const registry =
    options.registry ?? createMetricsRegistry({ defaultMetrics: options.defaultMetrics ?? true });
  const metrics = createAdapterMetrics(registry);
  let connectedOnce = false;
  const writer = await SpacetimeWriter.connect({
    uri,
    database,
    ...(token ? { token } : {}),
    logger: logger.child({ subsystem: 'spacetimedb' }),
    onConnected: () => {
      if (connectedOnce) metrics.spacetimeReconnects.inc();
      connectedOnce = true;
    },
  });
  // The baseline the epoch-change counter compares later scrapes with.
  metrics.refreshStreams(writer.streams());
  if (config.kafka) metrics.enableKafkaConsumerMetrics();
  let kafka: KafkaSource | undefined;
  const readiness = (): { ok: boolean; why?: string } => {
    if (!writer.isConnected) return { ok: false, why: 'SpacetimeDB not connected' };
    // Not ready while the consumer starts, restarts or crashed (the watchdog restarts it).
    if (config.kafka && !kafka?.ready) {
      return { ok: false, why: `Kafka consumer ${kafka ? kafka.status().state : 'not started'}` };
    }
    return { ok: true };
  };
  const http = await startHttpServer({
    host: config.ingest.host,
    port: config.ingest.port,
    registry,
    gate: authGate(authenticator, (why, where) =>
      logger.info({ subsystem: 'auth', call: where, why }, 'call refused'),
    ),
    openOps: config.auth.openOps,
    ...(tls ? { tls } : {}),
    ingest: ingestService(writer, metrics, options.acceptedSink, logger),
    admin: adminService({
      writer,
      metrics,
      spacetime: { uri, database, embedded: devhost !== undefined },
      kafka: () => kafka,
      ...(config.kafka
        ? { kafkaConfig: { groupId: config.kafka.groupId, topics: config.kafka.topics } }
        : {}),
      startedAtMs,
    }),
    beforeScrape: () => {
      metrics.spacetimeConnected.set(writer.isConnected ? 1 : 0);
      metrics.ready.set(readiness().ok ? 1 : 0);
      metrics.kafkaConsumerReady.set(kafka?.ready ? 1 : 0);
      metrics.refreshStreams(writer.streams());
    },
    onError: (e) => logger.error({ err: String(e) }, 'Connect call failed while being answered'),
    ready: readiness,
  });
  if (config.kafka) {
    await waitForTopics({
      brokers: config.kafka.brokers,
      topics: config.kafka.topics,
      create: config.kafka.createTopics === true,
      alsoCreate: [config.kafka.deadLetterTopic],
      logger: logger.child({ subsystem: 'kafka' }),
      stopping: () => options.signal?.aborted === true,
    });
    if (options.signal?.aborted) {
      await http.close();
      await writer.close();
      await devhost?.stop();
      throw new StartAborted();
    }
    kafka = new KafkaSource({
      ...config.kafka,
      writer,
      metrics,
      logger: logger.child({ subsystem: 'kafka' }),
    });
    await kafka.start();
  }
  let probe: DeliveryProbe | undefined;
  if (config.probeIntervalMs) {
    probe = new DeliveryProbe({
      uri,
      database,
      ...(token ? { token } : {}),
      writer,
      metrics,
      logger: logger.child({ subsystem: 'probe' }),
      intervalMs: config.probeIntervalMs,
    });
    probe.start();
  }
  let bridge: BridgeWorker | undefined;
  if (config.bridge) {
    // Loaded only when configured: the worker pulls in nostr-tools.
    const { startBridge } = await import('./bridge/start-bridge.js');
    bridge = await startBridge({
      config: config.bridge,
      uri,
      database,
      ...(token ? { serviceToken: token } : {}),
      embedded: devhost !== undefined,
      registry,
      logger: logger.child({ subsystem: 'bridge' }),
    });
  }
  let shadow: { stop(): Promise<void> } | undefined;
  if (config.parityShadow) {
    // Loaded only when on. It runs a desktop client (SyncClient) and a legacy-lane client on purpose:
    // shadow parity measures what a resuming client of each lane receives.
    const { ParityShadow } = await import('../parity/shadow/shadow.js');
    const s = new ParityShadow({
      config: config.parityShadow,
      candidate: {
        uri,
        database,
        ...(token ? { token } : {}),
        // The shadow reads as the writer identity, which reads what it grants itself.
        grant: (streams) => writer.grantSelfRead(streams),
      },
      streams: () => writer.streams().keys(),
      registry,
      logger: logger.child({ subsystem: 'parity-shadow' }),
    });
    await s.start();
    shadow = s;
  }
  let stopped = false;
  return {
    spacetimeUrl: uri,
    database,
    httpUrl: http.url,
    ...(devhost ? { devhost } : {}),
    writer,
    ...(kafka ? { kafka } : {}),
    ...(bridge ? { bridge } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      probe?.stop();
      await bridge?.stop();
      await shadow?.stop();
      await kafka?.stop();
      await http.close();
      await writer.close();
      await devhost?.stop();
    },
  };
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
