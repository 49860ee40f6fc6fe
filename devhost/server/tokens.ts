/**
 * ES256 JWTs in SpacetimeDB's shape (`crates/auth/src/identity.rs::SpacetimeIdentityClaims`,
 * `crates/core/src/auth/token_validation.rs`): minted for anonymous clients, re-signed short-lived for
 * websocket upgrades, and verified against this server's key only. Failures carry the status and text
 * SpacetimeDB answers with (`crates/client-api/src/auth.rs::AuthorizationRejection`).
 */
import {
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign as signBytes,
  verify as verifyBytes,
} from 'node:crypto';
import { identityFromClaims, identityFromHex, identityToHex } from './identity.js';

/** The issuer a standalone SpacetimeDB signs its own tokens with (`auth.rs::LOCALHOST`). */
export const LOCAL_ISSUER = 'localhost';
/** Clock skew tolerated on `exp` (jsonwebtoken's default `leeway`), for this server's tokens and OIDC ones. */
export const EXP_LEEWAY_SECONDS = 60;
/** `IncomingClaims::try_into`: issuer and subject are bounded. */
const MAX_CLAIM_LEN = 128;

export interface IdentityClaims {
  readonly identity: bigint;
  readonly subject: string;
  readonly issuer: string;
  readonly audience: readonly string[];
  /** Seconds since the Unix epoch. */
  readonly iat: number;
  readonly exp?: number;
  /** Claims beyond the standard ones, kept so a re-signed token carries them too. */
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface VerifiedToken {
  readonly claims: IdentityClaims;
  /** The payload JSON exactly as signed: what `get_jwt_payload` hands the module. */
  readonly payloadJson: string;
}

export type AuthFailureKind = 'invalid-token' | 'malformed-header' | 'required';

/** A rejected credential; `status`/`message` are what the HTTP response carries. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly kind: AuthFailureKind,
    message: string,
  ) {
    super(message);
  }

  get status(): 400 | 401 {
    return this.kind === 'malformed-header' ? 400 : 401;
  }
}

const invalid = (reason: string) => new AuthError('invalid-token', `Invalid token: ${reason}`);

function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

function decodeJsonPart(part: string): unknown {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw invalid('InvalidToken');
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch (e) {
    throw invalid(`JSON error: ${(e as Error).message}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const STANDARD_CLAIMS = new Set(['hex_identity', 'sub', 'iss', 'aud', 'iat', 'exp']);

/** Signs and verifies this server's tokens with one P-256 key. */
export class TokenAuthority {
  readonly publicKeyPem: string;
  private readonly publicKey: KeyObject;

  constructor(
    private readonly privateKey: KeyObject = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    readonly issuer: string = LOCAL_ISSUER,
  ) {
    const details = privateKey.asymmetricKeyDetails;
    if (
      privateKey.type !== 'private' ||
      privateKey.asymmetricKeyType !== 'ec' ||
      details?.namedCurve !== 'prime256v1'
    )
      throw new TypeError('signingKey must be a P-256 (ES256) private key');
    this.publicKey = createPublicKey(privateKey);
    this.publicKeyPem = this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** A fresh identity, as `SpacetimeAuth::alloc`: random UUIDv4 subject, placeholder audience, no expiry. */
  mintAnonymous(): { readonly claims: IdentityClaims; readonly token: string } {
    return this.signClaims({
      issuer: this.issuer,
      subject: randomUUID(),
      audience: ['spacetimedb'],
      extra: {},
    });
  }

  /** `re_sign_with_expiry`: the same issuer/subject/audience/extra claims, new `iat`, `exp` = now + ttl. */
  resign(
    claims: IdentityClaims,
    ttlSeconds: number,
  ): { readonly claims: IdentityClaims; readonly token: string } {
    return this.signClaims(claims, ttlSeconds);
  }

  private signClaims(
    base: Pick<IdentityClaims, 'issuer' | 'subject' | 'audience' | 'extra'>,
    ttlSeconds?: number,
  ): { claims: IdentityClaims; token: string } {
    const iat = Math.floor(Date.now() / 1000);
    const claims: IdentityClaims = {
      identity: identityFromClaims(base.issuer, base.subject),
      subject: base.subject,
      issuer: base.issuer,
      audience: base.audience,
      iat,
      ...(ttlSeconds === undefined ? {} : { exp: iat + ttlSeconds }),
      extra: base.extra,
    };
    // Field order and the explicit `exp: null` follow serde's output for SpacetimeIdentityClaims.
    const payload = {
      hex_identity: identityToHex(claims.identity),
      sub: claims.subject,
      iss: claims.issuer,
      aud: claims.audience,
      iat: claims.iat,
      exp: claims.exp ?? null,
      ...claims.extra,
    };
    const signingInput = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256' }))}.${b64url(JSON.stringify(payload))}`;
    const signature = signBytes('sha256', Buffer.from(signingInput), {
      key: this.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return { claims, token: `${signingInput}.${b64url(signature)}` };
  }

  /** Validates signature, `exp`, required claims and the identity derivation; throws {@link AuthError}. */
  verify(token: string): VerifiedToken {
    const parts = token.split('.');
    if (parts.length !== 3) throw invalid('InvalidToken');
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const header = decodeJsonPart(headerPart);
    if (!isRecord(header) || typeof header['alg'] !== 'string') throw invalid('InvalidToken');
    if (header['alg'] !== 'ES256') throw invalid('InvalidAlgorithm');
    if (!/^[A-Za-z0-9_-]*$/.test(signaturePart)) throw invalid('InvalidToken');
    const signature = Buffer.from(signaturePart, 'base64url');
    const ok =
      signature.length === 64 &&
      verifyBytes(
        'sha256',
        Buffer.from(`${headerPart}.${payloadPart}`),
        { key: this.publicKey, dsaEncoding: 'ieee-p1363' },
        signature,
      );
    if (!ok) throw invalid('InvalidSignature');

    const payloadJson = Buffer.from(payloadPart, 'base64url').toString('utf8');
    const payload = decodeJsonPart(payloadPart);
    if (!isRecord(payload)) throw invalid('JSON error: expected a JSON object');
    for (const required of ['sub', 'iss'] as const)
      if (!(required in payload)) throw invalid(`Missing required claim: ${required}`);
    const { sub, iss, aud, iat, exp } = payload;
    if (typeof exp === 'number' && exp < Date.now() / 1000 - EXP_LEEWAY_SECONDS)
      throw invalid('ExpiredSignature');
    if (typeof sub !== 'string' || typeof iss !== 'string')
      throw invalid('JSON error: `sub` and `iss` must be strings');
    if (typeof iat !== 'number') throw invalid('JSON error: missing field `iat`');
    if (exp !== undefined && exp !== null && typeof exp !== 'number')
      throw invalid('JSON error: `exp` must be a number');
    const audience = aud === undefined ? [] : typeof aud === 'string' ? [aud] : aud;
    if (!Array.isArray(audience) || !audience.every((a) => typeof a === 'string'))
      throw invalid('JSON error: `aud` must be a string or an array of strings');

    // `IncomingClaims::try_into` (its messages are returned verbatim: TokenValidationError::Other).
    if (iss.length > MAX_CLAIM_LEN)
      throw new AuthError('invalid-token', `Issuer too long: ${JSON.stringify(iss)}`);
    if (sub.length > MAX_CLAIM_LEN)
      throw new AuthError('invalid-token', `Subject too long: ${JSON.stringify(sub)}`);
    if (iss.length === 0) throw new AuthError('invalid-token', 'Issuer empty');
    if (sub.length === 0) throw new AuthError('invalid-token', 'Subject empty');
    const identity = identityFromClaims(iss, sub);
    const claimed = payload['hex_identity'];
    if (claimed !== undefined && (typeof claimed !== 'string' || identityFromHex(claimed) !== identity))
      throw new AuthError(
        'invalid-token',
        `Identity mismatch: token identity ${String(claimed)} does not match computed identity ${identityToHex(identity)}`,
      );
    const extra = Object.fromEntries(Object.entries(payload).filter(([k]) => !STANDARD_CLAIMS.has(k)));
    return {
      claims: {
        identity,
        subject: sub,
        issuer: iss,
        audience: audience as string[],
        iat,
        ...(typeof exp === 'number' ? { exp } : {}),
        extra,
      },
      payloadJson,
    };
  }
}
