/**
 * Why did a connection attempt fail, and will retrying help? The SDK reports a failed attempt as a
 * bare error whose text differs by runtime, so after a failure (never on the happy path) the client
 * library and the adapter ask the host itself over plain HTTP, the way SpacetimeDB's own routes answer:
 *   1. `GET v1/identity/public-key` — every SpacetimeDB host serves its token key here. Nothing
 *      listening, a timeout or a 5xx is transient; any other answer means the address is not SpacetimeDB.
 *   2. `POST v1/identity/websocket-token` with the token (as the SDK does first) — 400/401/403: the token is refused.
 *   3. The subscribe upgrade with a subprotocol no host accepts — the host resolves the database
 *      before it looks at protocols, so 404 means no such database; a 400 means the database is there
 *      and the failure was passing. Nothing is opened: the upgrade is always refused.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export interface DiagnosisTarget {
  readonly uri: string;
  readonly database: string;
  readonly token?: string | undefined;
  /** Per request. */
  readonly timeoutMs?: number;
}

/**
 * Transient: retrying can help. Permanent: the host answers "no" and will again — for the client
 * library a `SyncClientError` of that code, for the adapter the end of its start.
 */
export type HostDiagnosis =
  | { readonly kind: 'transient'; readonly detail: string }
  | { readonly kind: 'permanent'; readonly code: PermanentCode; readonly message: string };

export type PermanentCode = 'not_spacetimedb' | 'unauthenticated' | 'unknown_database';

const transient = (detail: string): HostDiagnosis => ({ kind: 'transient', detail });
const permanent = (code: PermanentCode, message: string): HostDiagnosis => ({
  kind: 'permanent',
  code,
  message,
});
const passing = (status: number) => status >= 500 || status === 408 || status === 429;

export async function diagnoseConnectFailure(target: DiagnosisTarget): Promise<HostDiagnosis> {
  const timeoutMs = target.timeoutMs ?? 5_000;
  const base = new URL(target.uri);
  base.protocol = base.protocol === 'wss:' || base.protocol === 'https:' ? 'https:' : 'http:';
  const at = (path: string) => new URL(path, base);

  let key: { status: number; body: string };
  try {
    const res = await fetch(at('v1/identity/public-key'), { signal: AbortSignal.timeout(timeoutMs) });
    key = { status: res.status, body: await res.text() };
  } catch (e) {
    return transient(`${base.origin} is unreachable: ${reason(e)}`);
  }
  if (passing(key.status)) return transient(`${base.origin} answered ${key.status}`);
  if (key.status !== 200 || !key.body.includes('PUBLIC KEY'))
    return permanent(
      'not_spacetimedb',
      `${base.origin} answered ${key.status} to GET v1/identity/public-key: is it a SpacetimeDB host?`,
    );

  let shortToken: string | undefined;
  if (target.token !== undefined) {
    let res: Response;
    try {
      res = await fetch(at('v1/identity/websocket-token'), {
        method: 'POST',
        headers: { authorization: `Bearer ${target.token}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      return transient(`${base.origin} is unreachable: ${reason(e)}`);
    }
    if (res.status === 400 || res.status === 401 || res.status === 403)
      return permanent('unauthenticated', `${base.origin} refused the token (HTTP ${res.status})`);
    if (!res.ok) return transient(`${base.origin} answered ${res.status} to the token exchange`);
    shortToken = ((await res.json().catch(() => ({}))) as { token?: string }).token;
  }

  const subscribe = at(`v1/database/${target.database}/subscribe`);
  if (shortToken) subscribe.searchParams.set('token', shortToken);
  let status: number;
  try {
    status = await upgradeStatus(subscribe, timeoutMs);
  } catch (e) {
    return transient(`${base.origin} is unreachable: ${reason(e)}`);
  }
  if (status === 404)
    return permanent('unknown_database', `${base.origin} has no database '${target.database}'`);
  if (status === 401 || status === 403)
    return permanent('unauthenticated', `${base.origin} refused the token (HTTP ${status})`);
  return transient(`${base.origin} and database '${target.database}' answer normally now`);
}

/** The status a websocket upgrade gets; 101 if the host accepted it (the socket is closed at once). */
function upgradeStatus(url: URL, timeoutMs: number): Promise<number> {
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        'sec-websocket-protocol': 'spacetime-sync.diagnosis',
      },
      timeout: timeoutMs,
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function reason(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
  return `${e instanceof Error ? e.message : String(e)}${cause}`;
}
