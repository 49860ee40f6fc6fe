/**
 * The claim rules of the generation-1 lane (fact sheet §11.2), applied after the signature is good:
 * integer `iat`/`exp`, `exp > now`, `exp > iat`, `iat`/`nbf` at most 30 s in the future; non-empty
 * `sub`, `jti`, `oa_org_id`; `oa_sync_scopes` (list or comma-separated) non-empty; `iss`, `aud` (may be
 * a list containing the value) and `oa_claims_version` equal to the lane's; and, because the socket
 * needs them, `oa_session_id` and `oa_device_id`.
 */

export const CLOCK_SKEW_SECONDS = 30;

export interface ExpectedClaims {
  readonly issuer: string;
  readonly audience: string;
  readonly claimsVersion: string;
}

export const DEFAULT_EXPECTED_CLAIMS: ExpectedClaims = {
  issuer: 'https://openagents.com',
  audience: 'openagents-sync',
  claimsVersion: 'oa_sync_claims_v1',
};

/** Who connected, as the lane uses it. */
export interface Principal {
  readonly sub: string;
  readonly sessionId: string;
  readonly deviceId: string;
  readonly orgId: string;
  /** Normalised `oa_sync_scopes`: trimmed, empties dropped, deduplicated, in token order. */
  readonly scopes: readonly string[];
}

export type ClaimsFailure = 'invalid_claims' | 'token_expired' | 'token_not_yet_valid' | 'claim_mismatch';

export type ClaimsCheck =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: ClaimsFailure; readonly detail: string };

function str(claims: Record<string, unknown>, key: string): string | undefined {
  const v = claims[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function int(claims: Record<string, unknown>, key: string): number | undefined {
  const v = claims[key];
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

export function normalizeScopes(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  const out: string[] = [];
  for (const s of list) {
    if (typeof s !== 'string') continue;
    const t = s.trim();
    if (t !== '' && !out.includes(t)) out.push(t);
  }
  return out;
}

function fail(reason: ClaimsFailure, detail: string): ClaimsCheck {
  return { ok: false, reason, detail };
}

export function checkClaims(
  claims: Record<string, unknown>,
  expected: ExpectedClaims,
  nowSeconds: number,
): ClaimsCheck {
  const iat = int(claims, 'iat');
  const exp = int(claims, 'exp');
  if (iat === undefined || exp === undefined) return fail('invalid_claims', 'iat and exp must be integers');
  const nbf = claims.nbf === undefined ? iat : int(claims, 'nbf');
  if (nbf === undefined) return fail('invalid_claims', 'nbf must be an integer');
  const sub = str(claims, 'sub');
  const jti = str(claims, 'jti');
  const orgId = str(claims, 'oa_org_id');
  if (!sub || !jti || !orgId) return fail('invalid_claims', 'sub, jti and oa_org_id are required');
  const scopes = normalizeScopes(claims.oa_sync_scopes);
  if (scopes.length === 0) return fail('invalid_claims', 'oa_sync_scopes is empty');
  if (exp <= nowSeconds) return fail('token_expired', `expired at ${exp}`);
  if (iat > nowSeconds + CLOCK_SKEW_SECONDS || nbf > nowSeconds + CLOCK_SKEW_SECONDS) {
    return fail('token_not_yet_valid', `iat ${iat} / nbf ${nbf} is more than ${CLOCK_SKEW_SECONDS} s ahead`);
  }
  if (exp <= iat) return fail('invalid_claims', 'exp is not after iat');
  const aud = claims.aud;
  const audOk = Array.isArray(aud) ? aud.includes(expected.audience) : aud === expected.audience;
  if (claims.iss !== expected.issuer) return fail('claim_mismatch', 'iss');
  if (!audOk) return fail('claim_mismatch', 'aud');
  if (claims.oa_claims_version !== expected.claimsVersion) return fail('claim_mismatch', 'oa_claims_version');
  const sessionId = str(claims, 'oa_session_id');
  const deviceId = str(claims, 'oa_device_id');
  if (!sessionId || !deviceId) return fail('invalid_claims', 'oa_session_id and oa_device_id are required');
  return { ok: true, principal: { sub, sessionId, deviceId, orgId, scopes } };
}
