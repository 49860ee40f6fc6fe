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
import {
  createRemoteJWKSet,
  decodeJwt,
  errors,
  type JWKSCacheInput,
  type JWTVerifyGetKey,
  jwksCache,
  jwtVerify,
} from 'jose';
import { identityFromClaims } from './identity.js';
import { AuthError, EXP_LEEWAY_SECONDS, type VerifiedToken } from './tokens.js';
import type { KeySetStamp } from './verified-tokens.js';

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
  /** Per issuer, where jose records when it last fetched the key set (`uat`, ms since the epoch). */
  private readonly fetched = new Map<string, { uat?: number }>();

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

  private get cacheMaxAgeMs(): number {
    return this.o.cacheMaxAgeMs ?? 300_000;
  }

  /**
   * Whether `stamp` names the key set of its issuer that is in use now: the same fetch, and not yet
   * stale (a stale set is fetched again before the next verification, which may find a key retired).
   */
  isCurrent(stamp: KeySetStamp): boolean {
    const uat = this.fetched.get(stamp.issuer)?.uat;
    return uat === stamp.fetchedAt && Date.now() < uat + this.cacheMaxAgeMs;
  }

  private keys(issuer: string): Promise<JWTVerifyGetKey> {
    let keys = this.keySets.get(issuer);
    if (!keys) {
      const fetched: { uat?: number } = {};
      this.fetched.set(issuer, fetched);
      keys = (async () => {
        const res = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
        if (!res.ok) throw new Error(`openid-configuration: HTTP ${res.status}`);
        const config = (await res.json()) as { jwks_uri?: unknown };
        if (typeof config.jwks_uri !== 'string') throw new Error('openid-configuration has no jwks_uri');
        // Caches the key set and refetches it for an unknown kid (rotation), with a cooldown.
        return createRemoteJWKSet(new URL(config.jwks_uri), {
          cooldownDuration: Math.min(5_000, this.o.cacheMaxAgeMs ?? 5_000),
          cacheMaxAge: this.cacheMaxAgeMs,
          // jose writes the time of every successful fetch here (what `isCurrent` compares).
          [jwksCache]: fetched as JWKSCacheInput,
        });
      })();
      this.keySets.set(issuer, keys);
      // A failed lookup is not cached: the issuer may come up later.
      keys.catch(() => {
        this.keySets.delete(issuer);
        this.fetched.delete(issuer);
      });
    }
    return keys;
  }

  /**
   * Verifies `token` of `issuer`; `keySet` names the key set it was verified with, when that is
   * certain (no fetch of the set completed while verifying), for a cache to tie the result to.
   */
  async verify(token: string, issuer: string): Promise<{ verified: VerifiedToken; keySet?: KeySetStamp }> {
    const fetched = this.fetched.get(issuer);
    const before = fetched?.uat;
    const verified = await this.verifyToken(token, issuer);
    const after = this.fetched.get(issuer)?.uat;
    // Fresh before and unchanged after: jose used exactly that set (it refetches only a stale one,
    // or for an unknown key id, which changes `uat`).
    const certain = before !== undefined && before === after && this.fetched.get(issuer) === fetched;
    return certain ? { verified, keySet: { issuer, fetchedAt: before } } : { verified };
  }

  private async verifyToken(token: string, issuer: string): Promise<VerifiedToken> {
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
        clockTolerance: EXP_LEEWAY_SECONDS,
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
