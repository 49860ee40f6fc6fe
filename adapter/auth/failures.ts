/**
 * Refused requests counted by why, for the cutover's auth-failures gate, the dashboard and alerting.
 * The label is a closed set (never the issuer, subject or path a caller chose), so a flood of bad
 * tokens cannot grow the metric.
 */
import { Counter, type Registry } from 'prom-client';

export const AUTH_FAILURE_REASONS = [
  /** No authorization header. */
  'missing',
  /** A header that is not a bearer token, or a token that is not a JWT. */
  'malformed',
  /** A JWT of an unknown issuer, a bad signature, another audience, a claim out of range. */
  'rejected',
  'expired',
  /** Authenticated, but no role of the token allows the call. */
  'forbidden',
  /** Refused unverified: its address used up its failed authentications (./failure-limiter.ts). */
  'throttled',
] as const;

export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export const AUTH_FAILURES_METRIC = 'spacetime_sync_auth_failures_total';

export function authFailureCounter(registry: Registry): Counter<'reason'> {
  const existing = registry.getSingleMetric(AUTH_FAILURES_METRIC);
  if (existing) return existing as Counter<'reason'>;
  const c = new Counter({
    name: AUTH_FAILURES_METRIC,
    help: 'Requests refused by authentication or authorization, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Every reason exported from the start: 0 is a reading, an absent series is "not measured".
  for (const reason of AUTH_FAILURE_REASONS) c.inc({ reason }, 0);
  return c;
}
