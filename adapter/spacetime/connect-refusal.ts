/**
 * Which SpacetimeDB connect failures are permanent. The service waits out any outage at start-up
 * (SpacetimeDB restarting, a dropped network, a host started after the adapter) but a host that
 * answers "no" will answer "no" again: bad credentials and a database that does not exist end the
 * start with a typed error instead of retrying forever while /readyz says "not connected".
 *
 * The SDK reports both as plain Errors, so this reads their text: the token exchange
 * (`POST /v1/identity/websocket-token`) fails with "Failed to verify token: Unauthorized", the
 * websocket upgrade with "Unexpected server response: <status>" (401/403 credentials, 404 database).
 * Anything else — connection refused, `fetch failed`, 5xx, timeouts — is an outage and is retried.
 */

export type RefusalKind = 'bad_credentials' | 'missing_database';

export class SpacetimeRefusedError extends Error {
  override readonly name = 'SpacetimeRefusedError';
  constructor(
    readonly kind: RefusalKind,
    readonly uri: string,
    readonly database: string,
    /** What the SDK said. */
    readonly why: string,
  ) {
    super(
      kind === 'bad_credentials'
        ? `SpacetimeDB at ${uri} refused the token (${why}); check SPACETIMEDB_TOKEN`
        : `SpacetimeDB at ${uri} has no database '${database}' (${why}); check SPACETIMEDB_DB`,
    );
  }
}

/** The permanent kind of a connect failure's message, or undefined when retrying can help. */
export function refusalKind(message: string): RefusalKind | undefined {
  if (/Failed to verify token|Unexpected server response: 40[13]\b/.test(message)) return 'bad_credentials';
  if (/Unexpected server response: 404\b/.test(message)) return 'missing_database';
  return undefined;
}
