/**
 * Start step 4, client tokens (../tokens/): the issuer when configured, its key set created or
 * checked before anything listens, and — once the listener's URL is known — SpacetimeDB told to
 * accept the tokens it mints, on every shard, so a client token reads its streams wherever they live;
 * and the service's own authenticator too, for the role they carry (`client`: RouteClient for the
 * token's own device).
 */

import type { Logger } from 'pino';
import { backoffDelay } from '../../shared/backoff.js';
import { isSyncError } from '../../shared/errors/sync-error.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { ServiceConfig } from '../config.js';
import type { EmbeddedDevhost } from '../embedded-devhost.js';
import type { ServiceLifecycle } from '../service-lifecycle.js';
import type { Shard, ShardSet } from '../shards/shard-set.js';
import { CLIENT_TOKEN_ROLES } from '../tokens/mint.js';
import { startTokenIssuer } from '../tokens/start.js';
import { untilConnected } from './shards.js';

export type TokenIssuer = ReturnType<typeof startTokenIssuer>;

export async function openTokenIssuer(
  config: ServiceConfig,
  shards: ShardSet,
  logger: Logger,
  life: ServiceLifecycle,
): Promise<TokenIssuer | undefined> {
  if (!config.clientTokens) return undefined;
  const writer = shards.primary.writer;
  const issuer = startTokenIssuer(config.clientTokens, logger, (sessionId) =>
    writer.revokeClientSession(sessionId),
  );
  // The key set is created (or checked) now: a damaged file stops the start, naming it.
  await issuer.keys.state().catch(life.failed);
  return issuer;
}

/** SpacetimeDB accepts the service's client tokens, and the module grants their streams. */
export async function trustTokenIssuer(deps: {
  readonly issuer: TokenIssuer;
  readonly httpUrl: string;
  readonly authenticator: Authenticator;
  readonly devhost: EmbeddedDevhost | undefined;
  readonly shards: ShardSet;
  readonly logger: Logger;
  readonly life: ServiceLifecycle;
}): Promise<void> {
  const { issuer, shards, logger, life } = deps;
  const iss = issuer.listening(deps.httpUrl);
  const own = { issuer: iss, keys: issuer.verifyKeys, audience: issuer.audience, roles: CLIENT_TOKEN_ROLES };
  if (!deps.authenticator.trust(own))
    logger.warn(
      { subsystem: 'auth', issuer: iss },
      "a configured AUTH_ISSUER has the client-token issuer's name: its configuration decides which of these tokens the service accepts",
    );
  deps.devhost?.trustIssuer(iss);
  for (const shard of shards.all()) await trustOnShard(shard, iss, issuer.audience, logger, life);
  await life.checkpoint();
}

/**
 * One shard's trust_token_issuer, asked until it is answered. SpacetimeDB can be away again by now
 * (a host crash between two start steps ended an adapter's start in the chaos long run, e33cdaa): an
 * `unavailable` answer waits for the writer to reconnect, as the start's other steps do, and asks
 * again (the reducer is an upsert, so asking twice is harmless). Any other refusal is final.
 */
async function trustOnShard(
  shard: Shard,
  iss: string,
  audience: string,
  logger: Logger,
  life: ServiceLifecycle,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await life.checkpoint();
    try {
      await shard.writer.trustTokenIssuer(iss, audience);
      return;
    } catch (e) {
      // An identity that is not (yet) a writer may still run: it dead-letters what it may not write
      // (runbooks/dead-letters.md) and an owner can grant it later. Only its client tokens wait.
      if (isSyncError(e, 'unauthorized')) {
        logger.warn(
          { err: e.message, shard: shard.name },
          'SpacetimeDB refused to trust this service as a token issuer: the client tokens it mints are refused until an owner grants it writer and the service restarts',
        );
        return;
      }
      if (!isSyncError(e, 'unavailable')) return life.failed(e);
      logger.warn(
        { err: e.message, shard: shard.name, attempt },
        'SpacetimeDB is away while the service asks it to trust its client tokens: waiting for it',
      );
    }
    await untilConnected(life, (ms) => shard.writer.waitConnected(ms));
    // Connected yet refused as unavailable (a call timeout, SpacetimeDB failing the call): not at once again.
    await new Promise((r) => setTimeout(r, backoffDelay(attempt, RETRY_BACKOFF)));
  }
}

/** Short: the start waits on this step, and a stop is looked at only between attempts. */
const RETRY_BACKOFF = { baseMs: 100, capMs: 1_000 };
