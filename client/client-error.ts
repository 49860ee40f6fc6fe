/**
 * Why a SyncClient closed on its own. Each code is permanent — retrying the same connection
 * unchanged cannot succeed — and says who must act. Transient failures never become one of these:
 * the client backs off and retries them (see connection-machine.ts).
 */
export type SyncClientErrorCode =
  /** The token was refused (malformed, expired, revoked, or from another issuer). The user must sign in again. */
  | 'unauthenticated'
  /** The host answers but has no database by that name. Fix the configured database name. */
  | 'unknown_database'
  /** Something answers at the address but it is not SpacetimeDB. Fix the configured URI. */
  | 'not_spacetimedb'
  /** The database refused the client's subscription: it does not run a compatible spacetime-sync module. */
  | 'subscription_refused'
  /** A stream kept going stale right after each rebootstrap; the client stopped instead of hammering. */
  | 'rebootstrap_loop'
  /**
   * The application's `onEvent` or `onRebootstrap`, or its cursor store, threw. Delivery stopped at
   * that event (the cursor did not pass it); the application must fix the cause and reopen.
   */
  | 'application_failed';

const CODES: ReadonlySet<string> = new Set<SyncClientErrorCode>([
  'unauthenticated',
  'unknown_database',
  'not_spacetimedb',
  'subscription_refused',
  'rebootstrap_loop',
  'application_failed',
]);

export class SyncClientError extends Error {
  override readonly name = 'SyncClientError';
  constructor(
    readonly code: SyncClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

/** Shape check rather than `instanceof`: holds when two copies of this module are loaded. */
export function isSyncClientError(e: unknown): e is SyncClientError {
  if (!(e instanceof Error) || e.name !== 'SyncClientError') return false;
  const code: unknown = (e as { code?: unknown }).code;
  return typeof code === 'string' && CODES.has(code);
}
