/**
 * The one place that says how an authority event is named in each lane, and how to go from one name to
 * the other. Both lanes are fed the same authority log; neither lane's own sequence numbers (the legacy
 * watermark per topic, our seq per stream) mean anything in the other, so a comparison aligns events by
 * their authority identity:
 *
 *   legacy lane (gen 1)          authority identity            spacetime-sync
 *   topic                  <->   authority topic         <->   source.authority_topic (sync_event.source_topic)
 *   doc_key                <->   document / stream       <->   stream_id (through the topic's DocKeyRule)
 *   doc_version            <->   authority seq           <->   source.authority_seq (sync_event.source_seq)
 *   watermark (per topic)        lane-local, never aligned     seq (per stream), lane-local, never aligned
 *   (none; dedup by identity)    --                            idempotency_key (per stream, producer's)
 *
 * A legacy topic is one global log shared by every principal; it fans out into our streams by doc_key:
 * every stream whose events carry that authority topic is one document family of the topic. The rule
 * between doc_key and stream_id is a bijection per topic (prefix swap, optionally with the version as
 * a `:<doc_version>` suffix for per-event documents), so no name is folded and both directions
 * round-trip (mapping.test.ts proves it with properties).
 */

/** Largest doc_version a legacy lane can carry: it is a plain JSON number there. */
export const MAX_LEGACY_VERSION = BigInt(Number.MAX_SAFE_INTEGER);

/** The authority identity of one event: what parity aligns both lanes by. */
export interface AuthorityId {
  /** The authority topic = the legacy topic = our source topic. */
  readonly topic: string;
  /** The legacy doc_key (derived from our stream id by the topic's rule). */
  readonly docKey: string;
  /** The authority seq = the legacy doc_version = our source seq. */
  readonly version: bigint;
}

/** Where an event sits in our lane, as far as the mapping is concerned. */
export interface CandidateCoordinates {
  readonly streamId: string;
  readonly sourceTopic: string;
  readonly sourceSeq: bigint;
}

/** Where an update sits in the legacy lane (its watermark is the lane's own and plays no part). */
export interface LegacyCoordinates {
  readonly topic: string;
  readonly docKey: string;
  readonly docVersion: bigint;
}

/**
 * How one legacy topic's doc_keys correspond to our stream ids: doc_key = docKeyPrefix + entity
 * (+ `:<doc_version>` when perVersion), stream_id = streamPrefix + entity. Topics without a rule use
 * doc_key = stream_id.
 */
export interface DocKeyRule {
  readonly topic: string;
  readonly docKeyPrefix: string;
  readonly streamPrefix: string;
  /** Every version is its own legacy document (gen-1 `runtime.codex_worker_events`). */
  readonly perVersion?: boolean;
}

/**
 * The real gen-1 lane's per-event documents (shared/docs/legacy-lane-khala.md §3): each worker event is
 * the document `runtime/codex_worker_event:<worker_id>:<seq>`; its stream here is the document name
 * without the seq. The summary topics' doc_keys are already one document per entity and need no rule.
 */
export const GEN1_RULES: readonly DocKeyRule[] = [
  {
    topic: 'runtime.codex_worker_events',
    docKeyPrefix: 'runtime/codex_worker_event:',
    streamPrefix: 'runtime/codex_worker_event:',
    perVersion: true,
  },
];

export type MappingFailure =
  | 'empty_topic'
  | 'empty_name'
  | 'version_out_of_range'
  | 'stream_outside_rule'
  | 'doc_key_outside_rule'
  | 'duplicate_rule';

/** An event that cannot be named in the other lane; never folded into a near name. */
export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(
    readonly reason: MappingFailure,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

export class LaneMapping {
  private readonly rules = new Map<string, DocKeyRule>();

  constructor(rules: readonly DocKeyRule[] = []) {
    for (const r of rules) {
      if (r.topic === '') throw new MappingError('empty_topic', 'a doc-key rule needs a topic');
      if (this.rules.has(r.topic)) throw new MappingError('duplicate_rule', `two rules for ${r.topic}`);
      this.rules.set(r.topic, r);
    }
  }

  /** Our event's authority identity (and so its legacy topic, doc_key and doc_version). */
  fromCandidate(c: CandidateCoordinates): AuthorityId {
    checkTopic(c.sourceTopic);
    checkVersion(c.sourceSeq);
    if (c.streamId === '') throw new MappingError('empty_name', 'empty stream id');
    const rule = this.rules.get(c.sourceTopic);
    if (!rule) return { topic: c.sourceTopic, docKey: c.streamId, version: c.sourceSeq };
    if (!c.streamId.startsWith(rule.streamPrefix) || c.streamId.length === rule.streamPrefix.length) {
      throw new MappingError(
        'stream_outside_rule',
        `stream ${JSON.stringify(c.streamId)} on topic ${c.sourceTopic} does not start with ${JSON.stringify(rule.streamPrefix)}`,
      );
    }
    const entity = c.streamId.slice(rule.streamPrefix.length);
    const suffix = rule.perVersion ? `:${c.sourceSeq}` : '';
    return { topic: c.sourceTopic, docKey: `${rule.docKeyPrefix}${entity}${suffix}`, version: c.sourceSeq };
  }

  /** A legacy update's authority identity. */
  fromLegacy(l: LegacyCoordinates): AuthorityId {
    checkTopic(l.topic);
    checkVersion(l.docVersion);
    if (l.docKey === '') throw new MappingError('empty_name', 'empty doc_key');
    return { topic: l.topic, docKey: l.docKey, version: l.docVersion };
  }

  /** The stream (and source coordinates) our lane holds an authority event under. */
  toCandidate(id: AuthorityId): CandidateCoordinates {
    const rule = this.rules.get(id.topic);
    if (!rule) return { streamId: id.docKey, sourceTopic: id.topic, sourceSeq: id.version };
    const suffix = rule.perVersion ? `:${id.version}` : '';
    const inner = id.docKey.length - rule.docKeyPrefix.length - suffix.length;
    if (!id.docKey.startsWith(rule.docKeyPrefix) || !id.docKey.endsWith(suffix) || inner <= 0) {
      throw new MappingError(
        'doc_key_outside_rule',
        `doc_key ${JSON.stringify(id.docKey)} on topic ${id.topic} is not ${JSON.stringify(rule.docKeyPrefix)}<entity>${suffix}`,
      );
    }
    const entity = id.docKey.slice(rule.docKeyPrefix.length, rule.docKeyPrefix.length + inner);
    return { streamId: `${rule.streamPrefix}${entity}`, sourceTopic: id.topic, sourceSeq: id.version };
  }

  /** The legacy coordinates of an authority event. */
  toLegacy(id: AuthorityId): LegacyCoordinates {
    return { topic: id.topic, docKey: id.docKey, docVersion: id.version };
  }

  /** The legacy topic a stream's events appear on is theirs; streams group by (topic, stream). */
  streamOf(id: AuthorityId): string {
    return this.toCandidate(id).streamId;
  }
}

/** A map key for an AuthorityId; injective (JSON array of the parts), so distinct ids never collide. */
export function authorityKey(id: AuthorityId): string {
  return JSON.stringify([id.topic, id.docKey, id.version.toString()]);
}

/** Inverse of authorityKey. */
export function parseAuthorityKey(key: string): AuthorityId {
  const parts: unknown = JSON.parse(key);
  if (Array.isArray(parts) && parts.length === 3) {
    const [topic, docKey, version] = parts as unknown[];
    if (
      typeof topic === 'string' &&
      typeof docKey === 'string' &&
      typeof version === 'string' &&
      /^\d+$/.test(version)
    ) {
      return { topic, docKey, version: BigInt(version) };
    }
  }
  throw new MappingError('empty_name', `not an authority key: ${key}`);
}

function checkTopic(topic: string): void {
  if (topic === '') throw new MappingError('empty_topic', 'event has no authority topic');
}

function checkVersion(v: bigint): void {
  // Authority seqs start at 1 (proto: 0 means unset); the legacy lane carries them as JSON numbers.
  if (v < 1n || v > MAX_LEGACY_VERSION) {
    throw new MappingError('version_out_of_range', `authority seq ${v} is outside 1..${MAX_LEGACY_VERSION}`);
  }
}
