/**
 * Start step 5, the HTTP listener: the auth gate in front of the Connect services (ingest, admin with
 * the cutover RPCs, tokens), the operations endpoints, and the gauges refreshed before every scrape.
 * It listens before the shards are connected, so /readyz can say why the service is not ready.
 */

import type { Logger } from 'pino';
import { adminService } from '../admin/admin-service.js';
import { cutoverRpcs } from '../admin/cutover-rpcs.js';
import type { Authenticator } from '../auth/authenticator.js';
import { FailureLimiter } from '../auth/failure-limiter.js';
import { authFailureCounter } from '../auth/failures.js';
import type { ServiceConfig } from '../config.js';
import type { CutoverController } from '../cutover/controller.js';
import type { EmbeddedDevhost } from '../embedded-devhost.js';
import { authGate } from '../http/auth-gate.js';
import { startHttpServer, type TlsMaterial } from '../http/http-server.js';
import { DEFAULT_INGEST_LIMITS } from '../ingest/ingest-limits.js';
import { ingestService } from '../ingest/ingest-service.js';
import type { KafkaSource } from '../kafka/kafka-source.js';
import type { AdapterMetrics } from '../metrics.js';
import type { AcceptedEnvelopeSink } from '../ports/accepted-envelopes.js';
import type { ServiceLifecycle } from '../service-lifecycle.js';
import type { ShardSet } from '../shards/shard-set.js';
import type { Registry } from '../telemetry/metrics.js';
import { tokenServiceOff } from '../tokens/token-service.js';
import type { TokenIssuer } from './client-tokens.js';

export type Listener = Awaited<ReturnType<typeof startHttpServer>>;

export async function startListener(deps: {
  readonly config: ServiceConfig;
  readonly authenticator: Authenticator;
  readonly tls: TlsMaterial | undefined;
  readonly registry: Registry;
  readonly metrics: AdapterMetrics;
  readonly shards: ShardSet;
  readonly devhost: EmbeddedDevhost | undefined;
  readonly cutover: CutoverController;
  readonly issuer: TokenIssuer | undefined;
  readonly acceptedSink: AcceptedEnvelopeSink | undefined;
  /** The Kafka source once started (it starts after the listener). */
  readonly kafka: () => KafkaSource | undefined;
  readonly readiness: () => { ok: boolean; why?: string };
  readonly startedAtMs: number;
  readonly logger: Logger;
  readonly life: ServiceLifecycle;
}): Promise<Listener> {
  const { config, registry, metrics, shards, issuer, logger, life } = deps;
  const { writer, uri, database } = shards.primary;
  const limits = config.ingest.limits ?? DEFAULT_INGEST_LIMITS;
  // Read by the cutover's auth-failures gate (../cutover/live-figures.ts) by name.
  const authFailures = authFailureCounter(registry);
  const http = await startHttpServer({
    host: config.ingest.host,
    port: config.ingest.port,
    registry,
    gate: authGate(
      deps.authenticator,
      (why, where, reason) => {
        authFailures.inc({ reason });
        logger.info({ subsystem: 'auth', call: where, why, reason }, 'call refused');
      },
      config.auth.failureLimits ? new FailureLimiter(config.auth.failureLimits) : undefined,
    ),
    openOps: config.auth.openOps,
    ...(deps.tls ? { tls: deps.tls } : {}),
    ingest: ingestService(shards, metrics, deps.acceptedSink, logger, limits.maxQueued),
    limits,
    admin: {
      ...adminService({
        writer,
        streamHead: (id) => shards.stream(id),
        metrics,
        spacetime: { uri, database, embedded: deps.devhost !== undefined },
        kafka: deps.kafka,
        ...(config.kafka
          ? { kafkaConfig: { groupId: config.kafka.groupId, topics: config.kafka.topics } }
          : {}),
        startedAtMs: deps.startedAtMs,
      }),
      ...cutoverRpcs(deps.cutover),
    },
    tokens: issuer ? issuer.service : tokenServiceOff(),
    ...(issuer ? { publicDocument: issuer.publicDocument } : {}),
    beforeScrape: () => {
      metrics.spacetimeConnected.set(shards.down().length === 0 ? 1 : 0);
      for (const s of shards.all())
        metrics.shardConnected.set({ shard: s.name }, s.writer.isConnected ? 1 : 0);
      metrics.ready.set(deps.readiness().ok ? 1 : 0);
      const kafkaState = deps.kafka()?.status().state;
      metrics.kafkaConsuming.set(kafkaState === 'consuming' || kafkaState === 'paused' ? 1 : 0);
      metrics.refreshStreams(shards.streams());
    },
    onError: (e) => logger.error({ err: String(e) }, 'Connect call failed while being answered'),
    ready: deps.readiness,
  }).catch(life.failed);
  life.started(() => http.close());
  await life.checkpoint();
  return http;
}
