/**
 * Wires the bridge into the service: one worker per shard (each shard's `bridge_outbox` holds the
 * events enqueued with its streams, so every shard's outbox is drained), which identity each runs as,
 * the grant of its target, the metrics, and one signing thread they share. The worker identity is, in
 * order: the token in BRIDGE_TOKEN_FILE; on the embedded devhost a fresh identity of its own;
 * otherwise the service's identity on that shard. The service (a sync writer on every shard) grants
 * it the target, so it sees that target's outbox and nothing else.
 *
 * Event ids need nothing per shard: a row's event hashes its key, stream, seq, kind, content and
 * creation second, and a stream lives on one shard, so rows of different shards give different ids;
 * the same key with the same content is the same event by the key's contract, and relays keep one.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Identity } from 'spacetimedb';
import { DbConnection } from '../../module/bindings/index.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import type { BridgeConfig } from './bridge-config.js';
import { createBridgeMetrics } from './bridge-metrics.js';
import { BridgeWorker } from './bridge-worker.js';
import { ThreadSigner } from './thread-signer.js';

/** One shard's database, as the service reaches it. */
export interface BridgeShard {
  readonly name: string;
  readonly uri: string;
  readonly database: string;
  /** The service's own token there (a sync writer): grants the worker its target. */
  readonly token?: string;
  /** One connection attempt's bound (`SPACETIMEDB_CONNECT_TIMEOUT_MS`, ../spacetime/connect-deadline.ts). */
  readonly connectTimeoutMs?: number;
}

export interface StartBridgeOptions {
  readonly config: BridgeConfig;
  /** Every shard, primary first; one shard: metrics carry no shard label, as before sharding. */
  readonly shards: readonly BridgeShard[];
  readonly embedded: boolean;
  readonly registry: Registry;
  readonly logger: Logger;
}

/** The bridge of a running service: a worker per shard. */
export interface RunningBridge {
  readonly workers: readonly { readonly shard: string; readonly worker: BridgeWorker }[];
  /** Pending outbox rows over every shard, as the workers see them. */
  readonly depth: number;
  stop(): Promise<void>;
}

/** Grants `identityHex` the bridge target, as `token` (a writer), over a short-lived connection. */
export async function grantBridgeWorker(
  uri: string,
  database: string,
  token: string | undefined,
  identityHex: string,
  target: string,
): Promise<void> {
  ensureWebSocket();
  const conn = await new Promise<DbConnection>((resolve, reject) => {
    DbConnection.builder()
      .withUri(uri)
      .withDatabaseName(database)
      .withToken(token)
      .withCompression('none')
      .onConnect((c) => resolve(c as DbConnection))
      .onConnectError((_ctx, err) => reject(err))
      .build();
  });
  try {
    await conn.reducers.grantBridgeWorker({ identity: Identity.fromString(identityHex), target });
  } finally {
    conn.disconnect();
  }
}

export async function startBridge(o: StartBridgeOptions): Promise<RunningBridge> {
  const fileToken = o.config.tokenFile ? readFileSync(o.config.tokenFile, 'utf8').trim() : undefined;
  const sharded = o.shards.length > 1;
  const workers: { shard: string; worker: BridgeWorker }[] = [];
  const metrics = createBridgeMetrics(o.registry, () =>
    workers.map((w) => ({ ...(sharded ? { shard: w.shard } : {}), outbox: w.worker.plan })),
  );
  const signer = new ThreadSigner(o.config.secretKey);
  const stop = async () => {
    await Promise.all(workers.map((w) => w.worker.stop()));
    await signer.close();
  };
  for (const shard of o.shards) {
    const token = fileToken ?? (o.embedded ? undefined : shard.token);
    const logger = sharded ? o.logger.child({ shard: shard.name }) : o.logger;
    const worker = new BridgeWorker({
      config: o.config,
      uri: shard.uri,
      database: shard.database,
      ...(token ? { token } : {}),
      ...(shard.connectTimeoutMs ? { connectTimeoutMs: shard.connectTimeoutMs } : {}),
      grant: (identityHex, target) =>
        grantBridgeWorker(shard.uri, shard.database, shard.token, identityHex, target),
      metrics,
      ...(sharded ? { metricLabels: { shard: shard.name } } : {}),
      logger,
      signer,
    });
    workers.push({ shard: shard.name, worker });
  }
  try {
    await Promise.all(workers.map((w) => w.worker.start()));
  } catch (e) {
    await stop();
    throw e;
  }
  for (const { shard, worker } of workers) {
    o.logger.info(
      {
        ...(sharded ? { shard } : {}),
        relays: o.config.relays.map((r) => r.label),
        pubkey: o.config.publicKey,
        identity: worker.identity,
      },
      'bridge worker started',
    );
  }
  return {
    workers,
    get depth() {
      return workers.reduce((n, w) => n + w.worker.plan.depth, 0);
    },
    stop,
  };
}
