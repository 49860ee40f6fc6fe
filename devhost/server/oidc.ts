/**
 * Third-party (OIDC) tokens, validated the way SpacetimeDB validates them
 * (`crates/core/src/auth/token_validation.rs`): a token not signed with this server's key is looked up
 * by its issuer — `{iss}/.well-known/openid-configuration`, then its `jwks_uri` — and verified with
 * the key its `kid` names (every key when it names none); ES256 and RS256; `sub` and `iss` required,
 * the issuer must match, `exp`/`nbf` checked, the audience is not. Keys are cached per issuer and
 * refetched when a `kid` is unknown (key rotation), at most once per cooldown.
 *
 * One difference on purpose: real SpacetimeDB fetches the configuration of any issuer a token names;
 * devhost fetches only those it was told to trust (`trustedIssuers`), since the issuer URL comes
 * from whoever presents the token. Modules must still check which issuer they accept (the identity
 * of a token is derived from its issuer and subject, so another issuer's subject is another identity).
 */
import { createRemoteJWKSet, decodeJwt, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { identityFromClaims } from './identity.js';
import { AuthError, type VerifiedToken } from './tokens.js';

/** `jsonwebtoken`'s default leeway on `exp`/`nbf`. */
const CLOCK_TOLERANCE_SECONDS = 60;
const MAX_CLAIM_LEN = 128;
const STANDARD_CLAIMS = new Set(['hex_identity', 'sub', 'iss', 'aud', 'iat', 'exp']);

const invalid = (reason: string) => new AuthError('invalid-token', `Invalid token: ${reason}`);

/** The token's `iss`, unverified (what picks the keys to verify it with), or undefined. */
export function rawIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

export class OidcValidator {
  private readonly keySets = new Map<string, Promise<JWTVerifyGetKey>>();

  /**
   * `trustedIssuers` is read on every token, so a caller may add to it later. `cacheMaxAgeMs`: how
   * long a fetched key set is used before it is fetched again, i.e. how late a key the issuer retired
   * stops verifying here (an unknown `kid` refetches at once, within the cooldown).
   */
  constructor(
    private readonly trustedIssuers: ReadonlySet<string>,
    private readonly o: { readonly cacheMaxAgeMs?: number } = {},
  ) {}

  trusts(issuer: string): boolean {
    return this.trustedIssuers.has(issuer);
  }

  private keys(issuer: string): Promise<JWTVerifyGetKey> {
    let keys = this.keySets.get(issuer);
    if (!keys) {
      keys = (async () => {
        const res = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
        if (!res.ok) throw new Error(`openid-configuration: HTTP ${res.status}`);
        const config = (await res.json()) as { jwks_uri?: unknown };
        if (typeof config.jwks_uri !== 'string') throw new Error('openid-configuration has no jwks_uri');
        // Caches the key set and refetches it for an unknown kid (rotation), with a cooldown.
        return createRemoteJWKSet(new URL(config.jwks_uri), {
          cooldownDuration: Math.min(5_000, this.o.cacheMaxAgeMs ?? 5_000),
          cacheMaxAge: this.o.cacheMaxAgeMs ?? 300_000,
        });
      })();
      this.keySets.set(issuer, keys);
      // A failed lookup is not cached: the issuer may come up later.
      keys.catch(() => this.keySets.delete(issuer));
    }
    return keys;
  }

  async verify(token: string, issuer: string): Promise<VerifiedToken> {
    let keys: JWTVerifyGetKey;
    try {
      keys = await this.keys(issuer);
    } catch (e) {
      throw new AuthError(
        'invalid-token',
        `Error fetching public key for issuer ${issuer}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        algorithms: ['ES256', 'RS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'iss'],
      }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw invalid('ExpiredSignature');
      if (e instanceof errors.JWKSNoMatchingKey)
        throw new AuthError('invalid-token', 'Specified key ID not found in JWKs');
      if (e instanceof errors.JWSSignatureVerificationFailed) throw invalid('InvalidSignature');
      throw invalid(e instanceof Error ? e.message : String(e));
    }
    const { sub, iss, aud, iat, exp } = payload;
    if (typeof sub !== 'string' || typeof iss !== 'string')
      throw invalid('JSON error: `sub` and `iss` must be strings');
    if (iss.length > MAX_CLAIM_LEN || sub.length > MAX_CLAIM_LEN)
      throw new AuthError('invalid-token', 'Issuer or subject too long');
    if (iss.length === 0 || sub.length === 0) throw new AuthError('invalid-token', 'Issuer or subject empty');
    const audience = aud === undefined ? [] : typeof aud === 'string' ? [aud] : (aud as string[]);
    const extra = Object.fromEntries(Object.entries(payload).filter(([k]) => !STANDARD_CLAIMS.has(k)));
    return {
      claims: {
        identity: identityFromClaims(iss, sub),
        subject: sub,
        issuer: iss,
        audience,
        iat: typeof iat === 'number' ? iat : Math.floor(Date.now() / 1000),
        ...(typeof exp === 'number' ? { exp } : {}),
        extra,
      },
      payloadJson: JSON.stringify(payload),
    };
  }
}
