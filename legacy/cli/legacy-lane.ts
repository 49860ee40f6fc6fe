/**
 * What `spacetime-sync legacy-lane` and `legacy-lane token` do (cli/commands/legacy-lane.ts declares
 * them). Settings come from the environment (legacy/config.ts); a bad one is a LaneConfigError, which
 * the command turns into exit 2.
 */
import { createLogger } from '../../adapter/telemetry/logger.js';
import { mintToken } from '../auth/tokens.js';
import { laneConfigFromEnv, lanePort } from '../config.js';
import { startLegacyLane } from '../lane.js';

export interface ServeOptions {
  readonly port?: number;
  readonly data?: string;
}

/** Runs the lane until SIGTERM/SIGINT: 0 when it stopped cleanly, 1 when it could not start. */
export async function serveLegacyLane(opts: ServeOptions): Promise<number> {
  const env = process.env;
  const config = laneConfigFromEnv(env, opts.data);
  const port = opts.port ?? lanePort(env.LEGACY_LANE_PORT);
  const brokers = env.KAFKA_BROKERS?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const topics = env.KAFKA_TOPICS?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const logger = createLogger({ level: env.LOG_LEVEL ?? 'info', component: 'legacy-lane' });
  let lane: Awaited<ReturnType<typeof startLegacyLane>>;
  try {
    lane = await startLegacyLane({
      dataDir: config.dataDir,
      keyring: config.keyring,
      servedTopics: config.servedTopics,
      expectedClaims: config.expectedClaims,
      port,
      logger,
      ...(brokers?.length
        ? {
            kafka: {
              brokers,
              topics: topics?.length ? topics : ['authority.events'],
              groupId: config.groupId,
            },
          }
        : {}),
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? `port ${port} is already in use` : err.message;
    console.error(`spacetime-sync legacy-lane: could not start: ${why}`);
    return 1;
  }
  console.log(`legacy lane serving ${config.servedTopics.join(', ')}; journal in ${lane.journal.file}`);
  console.log(`legacy lane listening on ${lane.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await lane.stop();
  return 0;
}

export interface TokenOptions {
  readonly topics: readonly string[];
  readonly ttlSeconds: number;
  readonly sub?: string;
  readonly session?: string;
  readonly device?: string;
  readonly org?: string;
}

/** A token signed with the keyring's first kid, with every required claim (defaults for the rest). */
export async function legacyLaneToken(opts: TokenOptions): Promise<string> {
  const config = laneConfigFromEnv(process.env, '.');
  return mintToken(
    config.keyring,
    {
      topics: opts.topics,
      ttlSeconds: opts.ttlSeconds,
      ...(opts.sub ? { sub: opts.sub } : {}),
      ...(opts.session ? { sessionId: opts.session } : {}),
      ...(opts.device ? { deviceId: opts.device } : {}),
      ...(opts.org ? { orgId: opts.org } : {}),
    },
    config.expectedClaims,
  );
}
