/**
 * Minting one client token: the request's rules beyond the contract's (lifetime range, the caller's
 * own stream scope), then the claims the sync module reads — `sid`, `uid`, `did` and `streams`
 * (module/src/reducers/tokens.ts) — and the service's role `client` (so the desktop client may ask
 * the service which cutover lane it uses, for its own device: ../auth/policy.ts, RouteClient),
 * signed with the issuer's current key. The subject joins the three
 * ids, so each (user, device, session) is its own SpacetimeDB identity; the contract forbids ':' in
 * them, so two different triples never share a subject.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SyncError } from '../../shared/errors/sync-error.js';
import { unauthorized } from '../auth/policy.js';
import { ALL_STREAMS, type Principal, type Role } from '../auth/principal.js';
import { invalid } from '../errors/invalid.js';
import type { IssuerKey } from './issuer-key-set.js';

/** Lifetimes, in seconds, as the legacy lane allowed them (fact sheet 11.1). */
export const CLIENT_TOKEN_TTL_S = { min: 60, default: 300, max: 900 } as const;
/** Tokens travel in a header: 64 streams of up to 256 characters stay well under common header limits. */
export const MAX_CLIENT_TOKEN_STREAMS = 64;
/** The service roles a minted token carries, and the only ones the service accepts from its issuer. */
export const CLIENT_TOKEN_ROLES = ['client'] as const satisfies readonly Role[];
/** How long before expiry a client should mint its next token. */
const REFRESH_MARGIN_S = 30;

export interface MintRequest {
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
  readonly streams: readonly string[];
  /** 0 = the default. */
  readonly ttlSeconds: number;
}

export interface MintPlan {
  readonly subject: string;
  readonly streams: readonly string[];
  readonly ttlS: number;
}

const ACTION = 'mint client tokens';

/**
 * What to mint for this caller, or why not. The contract's rules (lengths, counts, ':' in ids) are
 * checked before this; here: the lifetime's lower bound and the caller's own `streams` claim, which,
 * when it has one, bounds the streams it may hand out (prefixes, '*' = all).
 */
export function planClientToken(p: Principal, r: MintRequest): MintPlan | SyncError {
  const ttlS = r.ttlSeconds === 0 ? CLIENT_TOKEN_TTL_S.default : r.ttlSeconds;
  if (ttlS < CLIENT_TOKEN_TTL_S.min || ttlS > CLIENT_TOKEN_TTL_S.max)
    return invalid([
      {
        field: 'ttl_seconds',
        ruleId: 'ttl_seconds.range',
        description: `a lifetime of ${CLIENT_TOKEN_TTL_S.min}..${CLIENT_TOKEN_TTL_S.max} s (0 = ${CLIENT_TOKEN_TTL_S.default}), not ${ttlS}`,
      },
    ]);
  const streams = [...new Set(r.streams)];
  if (p.streams.length > 0) {
    const outside = streams.find(
      (s) => !p.streams.some((prefix) => prefix === ALL_STREAMS || s.startsWith(prefix)),
    );
    if (outside !== undefined)
      return unauthorized(
        ACTION,
        outside,
        `${p.subject ? `'${p.subject}'` : 'the caller'} may not mint a token for stream '${outside}': outside its own streams claim`,
      );
  }
  return { subject: `${r.userId}:${r.deviceId}:${r.sessionId}`, streams, ttlS };
}

export interface MintedToken {
  readonly token: string;
  readonly tokenId: string;
  readonly issuedAtS: number;
  readonly expiresAtS: number;
  readonly refreshAfterS: number;
}

export async function signClientToken(
  key: IssuerKey,
  o: { issuer: string; audience: string },
  r: MintRequest,
  plan: MintPlan,
  nowS = Math.floor(Date.now() / 1000),
): Promise<MintedToken> {
  const tokenId = randomUUID();
  const expiresAtS = nowS + plan.ttlS;
  const token = await new SignJWT({
    sid: r.sessionId,
    uid: r.userId,
    did: r.deviceId,
    streams: [...plan.streams],
    roles: [...CLIENT_TOKEN_ROLES],
  })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setIssuer(o.issuer)
    .setAudience(o.audience)
    .setSubject(plan.subject)
    .setJti(tokenId)
    .setIssuedAt(nowS)
    .setNotBefore(nowS)
    .setExpirationTime(expiresAtS)
    .sign(key.privateKey);
  return {
    token,
    tokenId,
    issuedAtS: nowS,
    expiresAtS,
    refreshAfterS: Math.max(1, plan.ttlS - REFRESH_MARGIN_S),
  };
}
