/**
 * The HTTP headers a refusal carries beside its Connect error body, for clients and proxies that read
 * only headers: `WWW-Authenticate` when credentials are missing or refused, `Retry-After` (whole
 * seconds, rounded up) when the refusal says when to try again.
 */
import type { SyncError } from '../../shared/errors/sync-error.js';

export function refusalHeaders(e: SyncError): Record<string, string> {
  if (e.reason === 'unauthenticated') return { 'www-authenticate': 'Bearer' };
  if (e.reason === 'resource_exhausted') {
    const after = (e as SyncError<'resource_exhausted'>).detail?.retryAfter;
    if (after) {
      const s = Number(after.seconds) + (after.nanos > 0 ? 1 : 0);
      return { 'retry-after': String(Math.max(1, s)) };
    }
  }
  return {};
}
