/**
 * order_differs (classify.ts's rule, kept apart as its own step): within one (topic, stream), the
 * events the candidate delivered outside the longest order it shares with the legacy lane, one
 * divergence each, so a single late event is one divergence, not a cascade.
 */
import type { Divergence } from './classify.js';
import { longestIncreasing } from './longest-increasing.js';
import type { CandidateEvent, LegacyUpdate } from './observation.js';
import { candidateSide, keyJson, legacySide, type Seen } from './seen.js';

/** Per (topic, stream): events the candidate delivered outside the longest order it shares with legacy. */
export function orderDivergences(
  legacy: Map<string, Seen<LegacyUpdate>>,
  candidate: Map<string, Seen<CandidateEvent>>,
): Divergence[] {
  const groups = new Map<string, { l: Seen<LegacyUpdate>; c: Seen<CandidateEvent> }[]>();
  for (const [key, l] of legacy) {
    const c = candidate.get(key);
    if (!c) continue;
    const g = JSON.stringify([l.id.topic, l.stream]);
    const list = groups.get(g) ?? [];
    list.push({ l, c });
    groups.set(g, list);
  }
  const out: Divergence[] = [];
  for (const pairs of groups.values()) {
    pairs.sort((a, b) => a.l.index - b.l.index);
    const inOrder = longestIncreasing(pairs.map((p) => p.c.index));
    pairs.forEach((p, i) => {
      if (inOrder.has(i)) return;
      out.push({
        class: 'order_differs',
        atMs: p.c.item.atMs,
        topic: p.l.id.topic,
        streamId: p.l.stream,
        key: keyJson(p.l.id),
        detail: `${p.l.id.docKey}@${p.l.id.version} is #${i + 1} of its stream in legacy order, delivered out of that order by the candidate`,
        legacy: legacySide(p.l.item),
        candidate: candidateSide(p.c.item),
      });
    });
  }
  return out;
}
