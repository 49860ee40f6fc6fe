/**
 * The divergence classifier: aligns what a resuming client received from each lane by authority
 * identity (mapping.ts) and names every difference. Pure; the legacy lane is the baseline, so
 * "missing" and "extra" are said of the candidate.
 *
 * - missing: the legacy lane delivered an event the candidate never did.
 * - extra: the candidate delivered an event the legacy lane never did.
 * - payload_differs: both delivered it, and the canonical hashes of the payloads with volatile fields
 *   dropped (payload-canon.ts) differ, a payload cannot be compared (not JSON, pointer mode), or a
 *   lane's own hash does not match its own payload.
 * - order_differs: within one (topic, stream), the candidate delivered an event out of the legacy
 *   lane's order (events outside the longest common order, one divergence each).
 * - duplicate: a lane delivered the same event again with no stale cursor / rebootstrap of its topic or
 *   stream in between (detail says whether the payload changed).
 * - stale_cursor_disagreement: one lane told the client its cursor was stale for a topic, the other
 *   did not for any of that topic's streams.
 * - unmappable: an event whose name has no counterpart under the mapping (MappingError).
 */
import type { JsonValue } from './canonical-json.js';
import { cutBeforeHorizon } from './horizon.js';
import { type AuthorityId, authorityKey, type LaneMapping, MappingError } from './mapping.js';
import type { CandidateEvent, LegacyUpdate, Observations, Scope } from './observation.js';
import { orderDivergences } from './order-divergence.js';
import {
  type Canon,
  candidateHashHolds,
  canonCandidate,
  canonLegacy,
  DEFAULT_VOLATILE_FIELDS,
  legacyHashHolds,
} from './payload-canon.js';
import { candidateSide, keyJson, legacySide, type Seen } from './seen.js';
import { type Staleness, staleDisagreements } from './stale-disagreement.js';
import { type LatencyStats, latencyStats } from './stats.js';

export const DIVERGENCE_CLASSES = [
  'missing',
  'extra',
  'payload_differs',
  'order_differs',
  'duplicate',
  'stale_cursor_disagreement',
  'unmappable',
] as const;
export type DivergenceClass = (typeof DIVERGENCE_CLASSES)[number];

/** The legacy side of a divergence, JSON-safe: the update's coordinates and its payload bytes. */
export interface LegacySide {
  readonly topic: string;
  readonly watermark: string;
  readonly docKey: string;
  readonly docVersion: string;
  /** The payload as JSON text (null in pointer mode). */
  readonly payload: string | null;
  readonly payloadHash: string | null;
  readonly atMs: number;
}

export interface CandidateSide {
  readonly streamId: string;
  readonly seq: string;
  readonly idempotencyKey: string;
  /** UTF-8 text of the payload bytes, or `base64:<…>` when they are not UTF-8. */
  readonly payload: string;
  readonly payloadHash: string;
  readonly atMs: number;
}

export interface Divergence {
  readonly class: DivergenceClass;
  /** When the client received the thing that diverged (ms since epoch); orders divergences. */
  readonly atMs: number;
  readonly topic: string;
  readonly streamId?: string;
  readonly key?: { readonly topic: string; readonly docKey: string; readonly version: string };
  readonly lane?: 'legacy' | 'candidate';
  readonly detail: string;
  readonly legacy?: LegacySide;
  readonly candidate?: CandidateSide;
}

export interface Classification {
  /** Events both lanes delivered (in scope). */
  readonly compared: number;
  readonly legacyEvents: number;
  readonly candidateEvents: number;
  /** Deliveries outside the scope (other principals' documents on a shared topic, other streams). */
  readonly outOfScope: { readonly legacy: number; readonly candidate: number };
  /** Events before the horizon (Scope.horizon), not compared. */
  readonly beforeHorizon: number;
  readonly divergences: readonly Divergence[];
  readonly counts: Readonly<Record<DivergenceClass, number>>;
  /** Candidate delivery time minus legacy delivery time, per compared event. */
  readonly timeToParityMs: LatencyStats;
  /** Every compared event (authorityKey) with its time to parity, for incremental accounting. */
  readonly matched: readonly { readonly key: string; readonly lagMs: number }[];
}

export interface ClassifyOptions {
  readonly volatileFields?: readonly string[];
}

const canonText = (c: Canon) => (c.ok ? c.hash : c.reason);

export function classify(
  obs: Observations,
  scope: Scope,
  mapping: LaneMapping,
  options: ClassifyOptions = {},
): Classification {
  const volatile = new Set(options.volatileFields ?? DEFAULT_VOLATILE_FIELDS);
  const out: Divergence[] = [];
  const outOfScope = { legacy: 0, candidate: 0 };
  /** Topics each stream's events were seen on (either lane), for the stale-cursor comparison. */
  const topicsOfStream = new Map<string, Set<string>>();
  const noteTopic = (stream: string, topic: string) => {
    const set = topicsOfStream.get(stream) ?? new Set<string>();
    set.add(topic);
    topicsOfStream.set(stream, set);
  };

  // ---- legacy: first delivery per event, duplicates, stale topics ----
  const legacy = new Map<string, Seen<LegacyUpdate>>();
  /** Per topic, the lane's first stale_cursor answer: when, and its reason. */
  const legacyStale = new Map<string, Staleness>();
  {
    const live = new Map<string, Set<string>>(); // topic -> keys delivered since its last stale
    obs.legacy.forEach((entry, index) => {
      if (entry.kind === 'stale') {
        if (!scope.topics.has(entry.topic)) return;
        if (!legacyStale.has(entry.topic))
          legacyStale.set(entry.topic, { atMs: entry.atMs, reason: entry.reason });
        live.delete(entry.topic);
        return;
      }
      const u = entry.update;
      let id: AuthorityId;
      let stream: string;
      try {
        id = mapping.fromLegacy({ topic: u.topic, docKey: u.docKey, docVersion: u.docVersion });
        stream = mapping.streamOf(id);
      } catch (e) {
        if (!(e instanceof MappingError)) throw e;
        out.push({
          class: 'unmappable',
          atMs: u.atMs,
          topic: u.topic,
          lane: 'legacy',
          detail: e.message,
          legacy: legacySide(u),
        });
        return;
      }
      if (!scope.topics.has(u.topic) || !scope.streams.has(stream)) {
        outOfScope.legacy++;
        return;
      }
      noteTopic(stream, u.topic);
      const key = authorityKey(id);
      const canon = canonLegacy(u.payload, volatile);
      const topicLive = live.get(u.topic) ?? new Set<string>();
      live.set(u.topic, topicLive);
      const first = legacy.get(key);
      if (first && topicLive.has(key)) {
        out.push({
          class: 'duplicate',
          atMs: u.atMs,
          topic: u.topic,
          streamId: stream,
          key: keyJson(id),
          lane: 'legacy',
          detail: duplicateDetail(
            first.canon,
            canon,
            `watermark ${first.item.watermark}`,
            `watermark ${u.watermark}`,
          ),
          legacy: legacySide(u),
        });
      }
      topicLive.add(key);
      if (!first) legacy.set(key, { item: u, index, id, stream, canon });
    });
  }

  // ---- candidate ----
  const candidate = new Map<string, Seen<CandidateEvent>>();
  /** Per stream, its first rebootstrap: when, and why (the client library's reason). */
  const rebootstraps = new Map<string, Staleness>();
  {
    const live = new Map<string, Set<string>>(); // stream -> keys delivered since its last rebootstrap
    obs.candidate.forEach((entry, index) => {
      if (entry.kind === 'rebootstrap') {
        if (!scope.streams.has(entry.streamId)) return;
        if (!rebootstraps.has(entry.streamId))
          rebootstraps.set(entry.streamId, { atMs: entry.atMs, reason: entry.reason });
        live.delete(entry.streamId);
        return;
      }
      const e = entry.event;
      let id: AuthorityId;
      try {
        id = mapping.fromCandidate({
          streamId: e.streamId,
          sourceTopic: e.sourceTopic,
          sourceSeq: e.sourceSeq,
        });
      } catch (err) {
        if (!(err instanceof MappingError)) throw err;
        out.push({
          class: 'unmappable',
          atMs: e.atMs,
          topic: e.sourceTopic,
          streamId: e.streamId,
          lane: 'candidate',
          detail: err.message,
          candidate: candidateSide(e),
        });
        return;
      }
      if (!scope.topics.has(e.sourceTopic) || !scope.streams.has(e.streamId)) {
        outOfScope.candidate++;
        return;
      }
      noteTopic(e.streamId, e.sourceTopic);
      const key = authorityKey(id);
      const canon = canonCandidate(e.payload, volatile);
      const streamLive = live.get(e.streamId) ?? new Set<string>();
      live.set(e.streamId, streamLive);
      const first = candidate.get(key);
      if (first && streamLive.has(key)) {
        out.push({
          class: 'duplicate',
          atMs: e.atMs,
          topic: e.sourceTopic,
          streamId: e.streamId,
          key: keyJson(id),
          lane: 'candidate',
          detail: duplicateDetail(first.canon, canon, `seq ${first.item.seq}`, `seq ${e.seq}`),
          candidate: candidateSide(e),
        });
      }
      streamLive.add(key);
      if (!first) candidate.set(key, { item: e, index, id, stream: e.streamId, canon });
    });
  }

  // ---- horizon: clients that resumed mid-history skipped different prefixes in each lane ----
  const beforeHorizon = scope.horizon ? cutBeforeHorizon(legacy, candidate) : 0;

  // ---- per event: missing, extra, payload, time to parity ----
  let compared = 0;
  const lags: number[] = [];
  const matched: { key: string; lagMs: number }[] = [];
  for (const [key, l] of legacy) {
    const c = candidate.get(key);
    const base = { topic: l.id.topic, streamId: l.stream, key: keyJson(l.id) };
    if (!c) {
      out.push({
        ...base,
        class: 'missing',
        atMs: l.item.atMs,
        detail: `legacy delivered ${l.id.docKey}@${l.id.version} (watermark ${l.item.watermark}); the candidate did not`,
        legacy: legacySide(l.item),
      });
      continue;
    }
    compared++;
    lags.push(c.item.atMs - l.item.atMs);
    matched.push({ key, lagMs: c.item.atMs - l.item.atMs });
    const problem = payloadProblem(l, c);
    if (problem) {
      out.push({
        ...base,
        class: 'payload_differs',
        atMs: Math.max(l.item.atMs, c.item.atMs),
        detail: problem,
        legacy: legacySide(l.item),
        candidate: candidateSide(c.item),
      });
    }
  }
  for (const [key, c] of candidate) {
    if (legacy.has(key)) continue;
    out.push({
      class: 'extra',
      atMs: c.item.atMs,
      topic: c.id.topic,
      streamId: c.stream,
      key: keyJson(c.id),
      detail: `the candidate delivered ${c.stream} seq ${c.item.seq} (authority seq ${c.id.version}); legacy did not`,
      candidate: candidateSide(c.item),
    });
  }

  out.push(...orderDivergences(legacy, candidate));
  out.push(...staleDisagreements(scope, legacyStale, rebootstraps, topicsOfStream));

  out.sort((a, b) => a.atMs - b.atMs);
  const counts = Object.fromEntries(DIVERGENCE_CLASSES.map((k) => [k, 0])) as Record<DivergenceClass, number>;
  for (const d of out) counts[d.class]++;
  return {
    compared,
    legacyEvents: legacy.size,
    candidateEvents: candidate.size,
    outOfScope,
    beforeHorizon,
    divergences: out,
    counts,
    timeToParityMs: latencyStats(lags),
    matched,
  };
}

function duplicateDetail(first: Canon, again: Canon, firstAt: string, againAt: string): string {
  const same = first.ok && again.ok && first.hash === again.hash;
  return same
    ? `delivered again at ${againAt} (first at ${firstAt}), same payload`
    : `delivered again at ${againAt} (first at ${firstAt}) with a new payload hash: ${canonText(first)} → ${canonText(again)}`;
}

function payloadProblem(l: Seen<LegacyUpdate>, c: Seen<CandidateEvent>): string | undefined {
  if (!legacyHashHolds(l.item.payload as JsonValue | null, l.item.payloadHash)) {
    return 'the legacy payload_hash does not match its own payload';
  }
  if (!candidateHashHolds(c.item.payload, c.item.payloadHash)) {
    return "the candidate's payload_hash does not match its own payload bytes";
  }
  if (!l.canon.ok) return `legacy payload not comparable: ${l.canon.reason}`;
  if (!c.canon.ok) return `candidate payload not comparable: ${c.canon.reason}`;
  if (l.canon.hash !== c.canon.hash) {
    return `canonical hashes differ (volatile fields dropped): legacy ${l.canon.hash}, candidate ${c.canon.hash}`;
  }
  return undefined;
}
