/**
 * Sync JWTs of the legacy lane: HS256 with a `kid` header selecting the key from the keyring (fact
 * sheet §11). jose does the JWS parsing and the constant-time HMAC check; the lane's own claim rules
 * are in claims.ts. Every refusal carries one of the reason codes the original recorded.
 */
import { randomUUID } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, errors, SignJWT } from 'jose';
import {
  type ClaimsFailure,
  checkClaims,
  DEFAULT_EXPECTED_CLAIMS,
  type ExpectedClaims,
  type Principal,
} from './claims.js';
import type { Keyring } from './keyring.js';

export type TokenFailure =
  | 'missing_token'
  | 'invalid_token_format'
  | 'invalid_token_encoding'
  | 'invalid_header'
  | 'unsupported_alg'
  | 'missing_kid'
  | 'unknown_kid'
  | 'invalid_signature'
  | ClaimsFailure;

export type TokenCheck =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: TokenFailure; readonly detail: string };

/** Tokens longer than this are refused before any parsing (inputs are bounded). */
export const MAX_TOKEN_CHARS = 8192;

function refuse(reason: TokenFailure, detail: string): TokenCheck {
  return { ok: false, reason, detail };
}

export async function verifyToken(
  token: string | undefined,
  keyring: Keyring,
  expected: ExpectedClaims = DEFAULT_EXPECTED_CLAIMS,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<TokenCheck> {
  if (token === undefined || token === '') return refuse('missing_token', 'no token');
  if (token.length > MAX_TOKEN_CHARS || token.split('.').length !== 3) {
    return refuse('invalid_token_format', 'not a compact JWS');
  }
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    return refuse('invalid_token_encoding', 'header is not base64url JSON');
  }
  if (typeof header.alg !== 'string' || header.alg === '') return refuse('invalid_header', 'no alg');
  if (header.alg !== 'HS256') return refuse('unsupported_alg', `alg ${header.alg}`);
  if (typeof header.kid !== 'string' || header.kid === '') return refuse('missing_kid', 'HS256 requires kid');
  const key = keyring.keys.get(header.kid);
  if (!key) return refuse('unknown_kid', `kid ${header.kid}`);
  let payload: Uint8Array;
  try {
    payload = (await compactVerify(token, key, { algorithms: ['HS256'] })).payload;
  } catch (e) {
    if (e instanceof errors.JWSSignatureVerificationFailed)
      return refuse('invalid_signature', 'bad signature');
    return refuse('invalid_token_encoding', (e as Error).message);
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return refuse('invalid_token_encoding', 'claims are not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    return refuse('invalid_token_encoding', 'claims are not an object');
  }
  return checkClaims(claims as Record<string, unknown>, expected, nowSeconds);
}

export interface MintOptions {
  readonly topics: readonly string[];
  readonly ttlSeconds?: number;
  readonly sub?: string;
  readonly sessionId?: string;
  readonly deviceId?: string;
  readonly orgId?: string;
  /** Overrides for tests of refusals (an expired or future token, another issuer…). */
  readonly claims?: Record<string, unknown>;
  readonly nowSeconds?: number;
  readonly kid?: string;
}

/** A token with every required claim, signed with the keyring's first key (or `kid`). */
export async function mintToken(
  keyring: Keyring,
  o: MintOptions,
  expected: ExpectedClaims = DEFAULT_EXPECTED_CLAIMS,
): Promise<string> {
  const kid = o.kid ?? keyring.signingKid;
  const key = keyring.keys.get(kid);
  if (!key) throw new Error(`no key with kid '${kid}' in the keyring`);
  const iat = o.nowSeconds ?? Math.floor(Date.now() / 1000);
  const claims = {
    iss: expected.issuer,
    aud: expected.audience,
    oa_claims_version: expected.claimsVersion,
    sub: o.sub ?? 'user:local',
    jti: randomUUID(),
    iat,
    exp: iat + (o.ttlSeconds ?? 300),
    oa_org_id: o.orgId ?? 'org_local',
    oa_session_id: o.sessionId ?? `sess_${randomUUID()}`,
    oa_device_id: o.deviceId ?? 'device_local',
    oa_sync_scopes: [...o.topics],
    ...o.claims,
  };
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(key);
}
