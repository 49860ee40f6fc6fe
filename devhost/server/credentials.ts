/**
 * Where a request's credential comes from, as `SpacetimeCreds::from_request_parts`: an
 * `Authorization: Bearer` header first, else a `?token=` query parameter.
 */
import type { IncomingMessage } from 'node:http';
import { type OidcValidator, rawIssuer } from './oidc.js';
import { AuthError, EXP_LEEWAY_SECONDS, type TokenAuthority, type VerifiedToken } from './tokens.js';
import type { VerifiedTokenCache } from './verified-tokens.js';

/** Verifies a token: this server's own first, else a trusted OIDC issuer's (`FullTokenValidator`). */
export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

/**
 * `cache`: tokens verified before are taken from it while their verification still holds
 * (verified-tokens.ts) — this server's until `exp` or the cache's ttl (its key never changes), a
 * trusted issuer's only while the key set they were verified with is the one in use.
 */
export function tokenVerifier(
  authority: TokenAuthority,
  oidc: OidcValidator,
  cache?: VerifiedTokenCache,
): TokenVerifier {
  return async (token) => {
    const known = cache?.get(token);
    if (known && (known.keySet === undefined || oidc.isCurrent(known.keySet))) return known.verified;
    try {
      const verified = authority.verify(token);
      cache?.put(token, verified, EXP_LEEWAY_SECONDS);
      return verified;
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      cache?.forget(token);
      const issuer = rawIssuer(token);
      // Our own issuer's tokens must carry our signature: that failure stands.
      if (issuer === undefined || issuer === authority.issuer) throw e;
      if (!oidc.trusts(issuer))
        throw new AuthError(
          'invalid-token',
          `Invalid token: issuer ${JSON.stringify(issuer)} is not trusted here`,
        );
      const { verified, keySet } = await oidc.verify(token, issuer);
      // Only a verification tied to a known key set is kept (never a refusal: that threw above).
      if (keySet) cache?.put(token, verified, EXP_LEEWAY_SECONDS, keySet);
      return verified;
    }
  };
}

const BEARER = /^bearer +(\S+) *$/i;

export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = BEARER.exec(header);
    // A header that is present but not a bearer credential is a malformed request, not anonymity.
    if (!match) throw new AuthError('malformed-header', 'Authorization is invalid: malformed token');
    return match[1];
  }
  return url.searchParams.get('token') ?? undefined;
}

/** The verified credential of a request, or undefined when it carries none; throws {@link AuthError}. */
export async function authenticate(
  verify: TokenVerifier,
  req: IncomingMessage,
  url: URL,
): Promise<VerifiedToken | undefined> {
  const token = requestToken(req, url);
  return token === undefined ? undefined : verify(token);
}
