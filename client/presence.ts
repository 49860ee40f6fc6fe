/**
 * Presence heartbeats (`upsert_presence`): advisory, so a failed or unanswered one is simply
 * retried by the next; the server expires a session after `ttlMs` without one.
 */
import type { SdkSession } from './sdk-session.js';
import { bounded } from './timers.js';

export interface PresenceOptions {
  readonly sessionId: string;
  readonly deviceId: string;
  readonly ttlMs: number;
}

/** Three heartbeats per TTL, so one lost heartbeat does not expire the session. */
export function heartbeatInterval(p: PresenceOptions): number {
  return Math.max(100, Math.floor(p.ttlMs / 3));
}

export async function heartbeat(
  session: SdkSession,
  p: PresenceOptions,
  streams: string[],
  state: string,
  callTimeoutMs = 10_000,
): Promise<void> {
  try {
    await bounded(session.presence({ ...p, streams, state }), callTimeoutMs);
  } catch {
    // Advisory: the next heartbeat retries.
  }
}
