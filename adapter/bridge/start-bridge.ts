/**
 * Wires the bridge worker into the service: which identity it runs as, the grant of its target, its
 * metrics. The worker identity is, in order: the token in BRIDGE_TOKEN_FILE; on the embedded devhost a
 * fresh identity of its own; otherwise the service's identity. The service (a sync writer) grants it
 * the target, so it sees that target's outbox and nothing else.
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

export interface StartBridgeOptions {
  readonly config: BridgeConfig;
  readonly uri: string;
  readonly database: string;
  /** The service's own token (a sync writer): grants the worker its target. */
  readonly serviceToken?: string;
  readonly embedded: boolean;
  readonly registry: Registry;
  readonly logger: Logger;
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

export async function startBridge(o: StartBridgeOptions): Promise<BridgeWorker> {
  const token = o.config.tokenFile
    ? readFileSync(o.config.tokenFile, 'utf8').trim()
    : o.embedded
      ? undefined
      : o.serviceToken;
  let worker: BridgeWorker | undefined;
  const metrics = createBridgeMetrics(o.registry, () => worker?.plan);
  worker = new BridgeWorker({
    config: o.config,
    uri: o.uri,
    database: o.database,
    ...(token ? { token } : {}),
    grant: (identityHex, target) => grantBridgeWorker(o.uri, o.database, o.serviceToken, identityHex, target),
    metrics,
    logger: o.logger,
    signer: new ThreadSigner(o.config.secretKey),
  });
  await worker.start();
  o.logger.info(
    { relays: o.config.relays.map((r) => r.label), pubkey: o.config.publicKey, identity: worker.identity },
    'bridge worker started',
  );
  return worker;
}
