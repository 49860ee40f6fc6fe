/**
 * The service's client-token issuer (README "Security"): where its key set lives, the `iss` its
 * tokens carry and the audience the sync module checks. The issuer URL must be where SpacetimeDB can
 * fetch `{issuer}/.well-known/openid-configuration` from this listener; by default the listener's own
 * URL, right for the embedded devhost and a SpacetimeDB on the same machine.
 */
import { join } from 'node:path';
import { stateDir } from '../../shared/state-dir.js';

export interface ClientTokenConfig {
  /** The issuer key set (issuer-key-set.ts), created on first start. */
  readonly keysFile: string;
  /** The tokens' `iss`; absent: the listener's URL once it listens. */
  readonly issuer?: string;
  /** The tokens' `aud`, the one the module's `token_issuer` row names. */
  readonly audience: string;
}

export const DEFAULT_CLIENT_AUDIENCE = 'spacetime-sync-client';

type Env = Readonly<Record<string, string | undefined>>;

export function loadClientTokenConfig(
  env: Env,
  fail: (variable: string, message: string) => Error,
): ClientTokenConfig {
  const issuer = env.CLIENT_TOKEN_ISSUER?.trim();
  if (issuer) {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw fail('CLIENT_TOKEN_ISSUER', `'${issuer}' is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw fail('CLIENT_TOKEN_ISSUER', `'${issuer}' must be an http(s) URL`);
    if (issuer.length > 128)
      throw fail('CLIENT_TOKEN_ISSUER', 'at most 128 characters (SpacetimeDB refuses longer issuers)');
  }
  return {
    keysFile: env.CLIENT_TOKEN_KEYS_FILE?.trim() || join(stateDir(env), 'client-token-keys.json'),
    ...(issuer ? { issuer: issuer.replace(/\/+$/, '') } : {}),
    audience: env.CLIENT_TOKEN_AUDIENCE?.trim() || DEFAULT_CLIENT_AUDIENCE,
  };
}
