/**
 * stale_cursor_disagreement: one lane told the client its cursor was stale for a topic, the other did
 * not for any of that topic's streams (classify.ts's rule, kept apart as its own step). The detail
 * names the reason the lane gave (the candidate's rebootstrap reason, e.g. `server_behind`, or the
 * legacy stale_cursor reason): a run's report then says why without a rerun.
 */
import type { Divergence } from './classify.js';
import type { Scope } from './observation.js';

/** When a lane said so, and why. */
export interface Staleness {
  readonly atMs: number;
  readonly reason: string;
}

export function staleDisagreements(
  scope: Scope,
  legacyStale: Map<string, Staleness>,
  rebootstraps: Map<string, Staleness>,
  topicsOfStream: Map<string, Set<string>>,
): Divergence[] {
  const out: Divergence[] = [];
  // A stream whose topic no delivery revealed could be any subscribed topic's.
  const topicsOf = (s: string) => topicsOfStream.get(s) ?? scope.topics;
  const candidateStaleTopics = new Set<string>();
  for (const s of rebootstraps.keys()) for (const t of topicsOf(s)) candidateStaleTopics.add(t);
  for (const [topic, { atMs, reason }] of legacyStale) {
    if (candidateStaleTopics.has(topic)) continue;
    out.push({
      class: 'stale_cursor_disagreement',
      atMs,
      topic,
      lane: 'legacy',
      detail: `legacy answered stale_cursor (${reason}) for ${topic}; the candidate rebootstrapped none of its streams`,
    });
  }
  for (const [stream, { atMs, reason }] of rebootstraps) {
    const topics = [...topicsOf(stream)];
    if (topics.some((t) => legacyStale.has(t))) continue;
    out.push({
      class: 'stale_cursor_disagreement',
      atMs,
      topic: topics.join(','),
      streamId: stream,
      lane: 'candidate',
      detail: `the candidate rebootstrapped ${stream} (${reason}); legacy reported no stale cursor for ${topics.join(', ')}`,
    });
  }
  return out;
}
