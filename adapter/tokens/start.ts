/**
 * The service's client-token issuer, put together: the key set (created on first use), TokenService
 * and the public discovery documents. The issuer URL is fixed by configuration or, by default, by the
 * listener's URL once it listens (`listening`); until then nothing can call it.
 */
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { ClientTokenConfig } from './config.js';
import { discoveryDocument } from './discovery.js';
import { IssuerKeySet } from './issuer-key-set.js';
import { tokenService } from './token-service.js';

export function startTokenIssuer(
  config: ClientTokenConfig,
  logger: Logger,
  /** The writer's revoke_client_session. */
  revoke: (sessionId: string) => Promise<void>,
) {
  const keys = new IssuerKeySet(config.keysFile);
  let issuer = config.issuer;
  const iss = () => {
    if (issuer === undefined) throw new Error('the token issuer is used before the listener listens');
    return issuer;
  };
  return {
    audience: config.audience,
    keys,
    service: tokenService({
      keys,
      issuer: iss,
      audience: config.audience,
      revoke: async (sessionId) => {
        await revoke(sessionId);
        logger.info({ subsystem: 'tokens', sessionId }, 'client session revoked');
      },
      onMinted: (m) => logger.info({ subsystem: 'tokens', ...m }, 'client token minted'),
    }),
    /** What the service's own authenticator checks minted tokens with: the current and previous key, re-read after a rotation. */
    verifyKeys: (async (header, token) =>
      createLocalJWKSet(await keys.jwks())(header, token)) as JWTVerifyGetKey,
    // Before the listener's URL is known there is no issuer to describe (404, not an error).
    publicDocument: async (path: string) =>
      issuer === undefined ? undefined : discoveryDocument(path, issuer, keys),
    /** Fixes the issuer URL (the configured one, else `url`) and returns it. */
    listening(url: string): string {
      issuer ??= url.replace(/\/+$/, '');
      return issuer;
    },
  };
}
