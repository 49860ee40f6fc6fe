/** Test-only: the whole service in this process, quiet, on free ports (embedded devhost unless told). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FailureLimits } from '../../adapter/auth/failure-limiter.js';
import type { KafkaConfig, ServiceConfig, SpacetimeTarget } from '../../adapter/config.js';
import type { CutoverConfig } from '../../adapter/cutover/config.js';
import type { IngestLimits } from '../../adapter/ingest/ingest-limits.js';
import { type RunningService, startService } from '../../adapter/service.js';
import { createLogger } from '../../adapter/telemetry/logger.js';
import { type ClientTokenConfig, DEFAULT_CLIENT_AUDIENCE } from '../../adapter/tokens/config.js';
import type { ShadowConfig } from '../../parity/shadow/config.js';
import type { ShardMove } from '../../shared/shards/route.js';
import { testAuthConfig } from './auth.js';

export function startTestService(
  options: {
    kafka?: KafkaConfig;
    spacetime?: SpacetimeTarget;
    probeIntervalMs?: number;
    parityShadow?: ShadowConfig;
    /** Node's process metrics (CPU, memory, event loop), as `npm start` exports them; off by default. */
    processMetrics?: boolean;
    cutover?: CutoverConfig;
    ingestLimits?: IngestLimits;
    /** The client-token issuer; default: its own key set in a fresh temporary directory. */
    clientTokens?: ClientTokenConfig;
    /** Failed authentications per peer (the test default is high: every test client is 127.0.0.1). */
    failureLimits?: FailureLimits;
    /** Streams a reshard moved (SPACETIMEDB_SHARD_MOVES_FILE's contents). */
    shardMoves?: readonly ShardMove[];
    /** The listener's port (default: any free one), e.g. a restarted service on the address it had. */
    ingestPort?: number;
  } = {},
): Promise<RunningService> {
  const config: ServiceConfig = {
    spacetime: options.spacetime ?? { kind: 'embedded', port: 0 },
    ingest: {
      host: '127.0.0.1',
      port: options.ingestPort ?? 0,
      ...(options.ingestLimits ? { limits: options.ingestLimits } : {}),
    },
    auth: options.failureLimits
      ? { ...testAuthConfig, failureLimits: options.failureLimits }
      : testAuthConfig,
    clientTokens: options.clientTokens ?? {
      keysFile: join(mkdtempSync(join(tmpdir(), 'client-token-keys-')), 'keys.json'),
      audience: DEFAULT_CLIENT_AUDIENCE,
    },
    logLevel: 'silent',
    ...(options.kafka ? { kafka: options.kafka } : {}),
    ...(options.probeIntervalMs !== undefined ? { probeIntervalMs: options.probeIntervalMs } : {}),
    ...(options.parityShadow ? { parityShadow: options.parityShadow } : {}),
    ...(options.cutover ? { cutover: options.cutover } : {}),
    ...(options.shardMoves ? { shardMoves: options.shardMoves } : {}),
  };
  return startService(config, createLogger({ level: 'silent' }), {
    defaultMetrics: options.processMetrics === true,
  });
}
