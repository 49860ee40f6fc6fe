/**
 * Who a verified bearer token speaks for, read from its claims. The roles are the service's own:
 * `publisher` may publish within its scope (stream-id prefixes in `streams`, authority topics in
 * `topics`), `operator` may read every admin view, `token_issuer` (a control service) may mint client
 * tokens — for the streams its own `streams` claim covers, when it has one —, `client` (a desktop
 * client) may only ask which cutover lane it uses, for itself (its `sub` is its client id), and
 * `admin` may do everything. Unknown roles are
 * ignored, so one identity provider can carry other services' roles in the same claim.
 */
import type { JWTPayload } from 'jose';

export const ROLES = ['publisher', 'operator', 'admin', 'token_issuer', 'client'] as const;
export type Role = (typeof ROLES)[number];

/** A `streams` entry that matches every stream id. */
export const ALL_STREAMS = '*';

export interface Principal {
  readonly issuer: string;
  /** The token's `sub`, for logs; '' when the token has none. */
  readonly subject: string;
  readonly roles: ReadonlySet<Role>;
  /** Stream-id prefixes a publisher may write (`*`: all); empty = no stream restriction claimed. */
  readonly streams: readonly string[];
  /** Authority topics a publisher may write; empty = no topic restriction claimed. */
  readonly topics: readonly string[];
  /**
   * The token's `did` (device id, as MintClientToken writes it); '' when it has none. A client is
   * routed by its device: this, else its `sub` (./policy.ts, RouteClient).
   */
  readonly deviceId: string;
}

/** `["a","b"]` or the OAuth style `"a b"`; anything else counts as absent. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  return [];
}

export function principalFromClaims(issuer: string, claims: JWTPayload): Principal {
  const roles = new Set(
    strings(claims.roles).filter((r): r is Role => (ROLES as readonly string[]).includes(r)),
  );
  return {
    issuer,
    subject: typeof claims.sub === 'string' ? claims.sub : '',
    roles,
    streams: strings(claims.streams),
    topics: strings(claims.topics),
    deviceId: typeof claims.did === 'string' ? claims.did : '',
  };
}

/**
 * Whether a publisher's scope covers one envelope's target. A publisher token must restrict
 * something: one with neither `streams` nor `topics` may publish nothing. Each restriction it does
 * carry must hold (stream prefix and authority topic both, when both are claimed).
 */
export function mayPublish(p: Principal, streamId: string, authorityTopic: string | undefined): boolean {
  if (p.streams.length === 0 && p.topics.length === 0) return false;
  const streamOk = p.streams.length === 0 || matchesStream(p, streamId);
  const topicOk =
    p.topics.length === 0 || (authorityTopic !== undefined && p.topics.includes(authorityTopic));
  return streamOk && topicOk;
}

/** Whether a publisher may read a stream's position (head, lag): its `streams` must name it. */
export function mayReadStream(p: Principal, streamId: string): boolean {
  return matchesStream(p, streamId);
}

function matchesStream(p: Principal, streamId: string): boolean {
  return p.streams.some((prefix) => prefix === ALL_STREAMS || streamId.startsWith(prefix));
}
