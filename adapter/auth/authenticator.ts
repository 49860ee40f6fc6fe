/**
 * Bearer token → Principal. A token is accepted when it is a JWS signed with an asymmetric algorithm
 * by a key of the issuer its `iss` names (one of the configured ones), for this service's audience,
 * or by the service's own client-token issuer (../tokens/) for the sync module's audience, its roles
 * cut to the one it mints (`client`), with an `exp` in the future and any `nbf` in the past, both within the configured clock skew.
 * Everything else is refused alike to the caller ("not accepted"); the precise cause goes to the
 * log with the issuer and subject, never the token.
 */
import { decodeJwt, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, type KeyObject } from 'jose';
import type { AuthFailureReason } from './failures.js';
import type { IssuerKeys } from './issuer-keys.js';
import { type Principal, principalFromClaims, type Role } from './principal.js';
import { DEFAULT_VERIFIED_TOKENS, VerifiedTokens, type VerifiedTokensOptions } from './verified-tokens.js';

/** Asymmetric algorithms only: a shared secret would let every verifier mint tokens. */
export const ALGORITHMS = [
  'ES256',
  'ES384',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
  'Ed25519',
];

/** Largest clock skew that can be configured: beyond it an expired token lives on noticeably. */
export const MAX_CLOCK_SKEW_S = 300;

export class AuthFailure extends Error {
  override readonly name = 'AuthFailure';
  constructor(
    /** What the caller is told. */
    readonly publicMessage: string,
    /** What the log says (never the token). */
    readonly why: string,
    /** The counted reason (a closed set). */
    readonly reason: AuthFailureReason = 'rejected',
  ) {
    super(publicMessage);
  }
}

export interface AuthenticatorOptions {
  readonly issuers: readonly IssuerKeys[];
  readonly audience: string;
  readonly clockSkewS: number;
  /** Tokens already verified, reused while valid (./verified-tokens.ts); default a minute, 4,096. */
  readonly verifiedTokens?: VerifiedTokensOptions;
}

/**
 * An issuer the service itself runs (its client-token issuer, ../tokens/): its tokens are for
 * another audience (the sync module's), and only the roles it mints count.
 */
export interface OwnIssuer extends IssuerKeys {
  readonly audience: string;
  /** The only roles its tokens may carry; any other role in one is dropped. */
  readonly roles: readonly Role[];
}

interface Accepted {
  readonly keys: JWTVerifyGetKey;
  readonly audience: string;
  readonly roles?: readonly Role[];
}

export class Authenticator {
  private readonly issuers: Map<string, Accepted>;
  private readonly verified: VerifiedTokens;

  constructor(private readonly o: AuthenticatorOptions) {
    this.issuers = new Map(o.issuers.map((i) => [i.issuer, { keys: i.keys, audience: o.audience }]));
    this.verified = new VerifiedTokens(o.verifiedTokens ?? DEFAULT_VERIFIED_TOKENS);
  }

  /**
   * Accepts the tokens of an issuer the service runs, from now on (its URL is known only once the
   * listener listens). False, changing nothing, when a configured issuer has the same name: the
   * configuration wins.
   */
  trust(own: OwnIssuer): boolean {
    if (this.issuers.has(own.issuer)) return false;
    this.issuers.set(own.issuer, { keys: own.keys, audience: own.audience, roles: own.roles });
    return true;
  }

  /** The principal of an `authorization` header value; throws AuthFailure. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const m = header?.match(/^Bearer[ \t]+([A-Za-z0-9_\-.]+)[ \t]*$/i);
    if (!m?.[1]) {
      throw new AuthFailure(
        header
          ? 'the authorization header is not a bearer token'
          : 'no bearer token: authenticate with "authorization: Bearer <token>"',
        header ? 'malformed authorization header' : 'no authorization header',
        header ? 'malformed' : 'missing',
      );
    }
    const token = m[1];
    const known = this.verified.get(token);
    if (known) return known;
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new AuthFailure('the bearer token was not accepted', 'not a JWT', 'malformed');
    }
    const iss = typeof unverified.iss === 'string' ? unverified.iss : '';
    const accepted = this.issuers.get(iss);
    if (!accepted) throw new AuthFailure('the bearer token was not accepted', `unknown issuer '${iss}'`);
    try {
      const { payload } = await verifyWithSet(token, accepted.keys, {
        issuer: iss,
        audience: accepted.audience,
        clockTolerance: this.o.clockSkewS,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
      });
      const p = principalFromClaims(iss, payload);
      const only = accepted.roles;
      const principal = only ? { ...p, roles: new Set([...p.roles].filter((r) => only.includes(r))) } : p;
      // `exp` is required above, so it is a number here.
      this.verified.put(token, principal, payload.exp as number, this.o.clockSkewS);
      return principal;
    } catch (e) {
      if (e instanceof errors.JWTExpired)
        throw new AuthFailure(
          'the bearer token has expired',
          `expired (issuer '${iss}', sub '${unverified.sub ?? ''}')`,
          'expired',
        );
      const why = e instanceof errors.JOSEError ? `${e.code}: ${e.message}` : String(e);
      throw new AuthFailure(
        'the bearer token was not accepted',
        `${why} (issuer '${iss}', sub '${unverified.sub ?? ''}')`,
      );
    }
  }
}

type VerifyOptions = Parameters<typeof jwtVerify>[2];

/**
 * jwtVerify against a key set. A token without a key id can match several keys of a set (two active
 * keys during a rotation); jose then hands back the candidates and each is tried in turn.
 */
async function verifyWithSet(token: string, keys: JWTVerifyGetKey, options: VerifyOptions) {
  try {
    return await jwtVerify(token, keys, options);
  } catch (e) {
    if (!(e instanceof errors.JWKSMultipleMatchingKeys)) throw e;
    let last: unknown = e;
    for await (const key of e as unknown as AsyncIterable<KeyObject | Uint8Array>) {
      try {
        return await jwtVerify(token, key, options);
      } catch (inner) {
        last = inner;
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw last;
  }
}
