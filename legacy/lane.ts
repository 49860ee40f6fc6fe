/**
 * The legacy lane as one running thing: the durable journal, the websocket server reading it, the
 * mirror that appends accepted authority events, the retention job, and — when brokers are given —
 * the lane's own Kafka consumer. Used by `spacetime-sync legacy-lane`, by `npm start` with
 * LEGACY_LANE=1, and by tests.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ExpectedClaims } from './auth/claims.js';
import type { Keyring } from './auth/keyring.js';
import { LegacyKafkaFeed } from './feed/kafka-feed.js';
import { LegacyMirror } from './feed/mirror.js';
import type { DocKeyOf } from './feed/to-entry.js';
import { LegacyJournal } from './journal/journal.js';
import { GEN1_TOPICS, type PolicyOverrides, topicPolicy } from './protocol/topic-policy.js';
import { type LaneServer, startLaneServer } from './server/lane-server.js';

export interface LegacyLaneOptions {
  readonly dataDir: string;
  readonly keyring: Keyring;
  readonly logger: Logger;
  /** 0 = any free port. */
  readonly port?: number;
  readonly servedTopics?: readonly string[];
  readonly policy?: PolicyOverrides;
  readonly expectedClaims?: ExpectedClaims;
  readonly heartbeatIntervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
  /** How often the retention job runs (the original: every 60 s). */
  readonly retentionIntervalMs?: number;
  readonly kafka?: {
    readonly brokers: readonly string[];
    readonly topics: readonly string[];
    readonly groupId: string;
  };
  readonly registry?: Registry;
  readonly docKeyOf?: DocKeyOf;
}

export interface LegacyLane {
  /** `ws://127.0.0.1:<port>/socket/websocket` */
  readonly url: string;
  readonly port: number;
  readonly journal: LegacyJournal;
  readonly mirror: LegacyMirror;
  readonly server: LaneServer;
  readonly kafka?: LegacyKafkaFeed;
  stop(): Promise<void>;
}

export async function startLegacyLane(o: LegacyLaneOptions): Promise<LegacyLane> {
  const servedTopics = o.servedTopics ?? GEN1_TOPICS;
  const logger = o.logger.child({ subsystem: 'legacy-lane' });
  const journal = await LegacyJournal.open(o.dataDir);
  const server = await startLaneServer({
    journal,
    keyring: o.keyring,
    servedTopics,
    logger,
    port: o.port ?? 0,
    ...(o.expectedClaims ? { expectedClaims: o.expectedClaims } : {}),
    ...(o.policy ? { policy: o.policy } : {}),
    ...(o.heartbeatIntervalMs ? { heartbeatIntervalMs: o.heartbeatIntervalMs } : {}),
    ...(o.heartbeatTimeoutMs ? { heartbeatTimeoutMs: o.heartbeatTimeoutMs } : {}),
  }).catch(async (e: unknown) => {
    await journal.close();
    throw e;
  });
  const unlisten = journal.onAppend((topic) => server.notify(topic));
  const mirror = new LegacyMirror({
    journal,
    servedTopics,
    logger,
    ...(o.registry ? { registry: o.registry } : {}),
    ...(o.docKeyOf ? { docKeyOf: o.docKeyOf } : {}),
  });
  const retention = setInterval(() => {
    journal
      .pruneExpired((t) => topicPolicy(t, o.policy).retentionSeconds)
      .catch((e: unknown) => {
        logger.error({ err: (e as Error).message }, 'legacy lane retention failed');
      });
  }, o.retentionIntervalMs ?? 60_000);
  retention.unref();
  let kafka: LegacyKafkaFeed | undefined;
  if (o.kafka) {
    kafka = new LegacyKafkaFeed({ ...o.kafka, sink: mirror, logger });
    try {
      await kafka.start();
    } catch (e) {
      clearInterval(retention);
      await server.close();
      await journal.close();
      throw e;
    }
  }
  let stopped = false;
  return {
    url: server.url,
    port: server.port,
    journal,
    mirror,
    server,
    ...(kafka ? { kafka } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(retention);
      await kafka?.stop();
      unlisten();
      await server.close();
      await journal.close();
    },
  };
}
