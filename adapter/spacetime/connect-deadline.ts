/**
 * A bound on one SpacetimeDB connection attempt. The SDK's connect (a token fetch, then the
 * websocket upgrade, then the identity message) has no timeout of its own: an attempt whose peer
 * accepts and then never answers, or whose close goes unseen, waits forever without an error, and
 * the owner's retry/backoff never runs (chaos finding, README "Faults survived"). Each owner (the
 * writer, the delivery probe, the cutover store, the bridge's outbox link) arms one deadline per
 * attempt: if the attempt has not opened by then, it is reported lost like any failed connect, so
 * the existing backoff path retries it and logs why; whatever the abandoned attempt does later is
 * ignored (a late open is closed at once).
 */

/** `SPACETIMEDB_CONNECT_TIMEOUT_MS` when unset: as long as the desktop client's `connectTimeoutMs`. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

export interface ConnectDeadline {
  /**
   * The attempt opened, failed or ended: true if it is still the attempt its owner waits for (the
   * deadline is disarmed), false if the deadline already gave it up (the caller ignores the event).
   */
  settle(): boolean;
  /** The owner dropped the attempt itself (closing): no timeout is reported. */
  cancel(): void;
}

/** Arms the deadline; `onTimeout` gets the reason once if the attempt has not settled within `ms`. */
export function connectDeadline(ms: number, onTimeout: (why: string) => void): ConnectDeadline {
  let state: 'pending' | 'settled' | 'expired' = 'pending';
  const timer = setTimeout(() => {
    if (state !== 'pending') return;
    state = 'expired';
    onTimeout(`connect timed out: no answer within ${ms} ms`);
  }, ms);
  return {
    settle() {
      if (state === 'expired') return false;
      state = 'settled';
      clearTimeout(timer);
      return true;
    },
    cancel() {
      if (state === 'pending') state = 'settled';
      clearTimeout(timer);
    },
  };
}
