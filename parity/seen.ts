/**
 * What the classifier keeps of each event a lane delivered (its first delivery, aligned by authority
 * identity), and how an event is shown on either side of a divergence: JSON-safe, payload as text.
 */
import type { CandidateSide, LegacySide } from './classify.js';
import type { AuthorityId } from './mapping.js';
import type { CandidateEvent, LegacyUpdate } from './observation.js';
import type { Canon } from './payload-canon.js';

/** An event's first delivery by one lane: where it came in that lane's order, its identity and canon. */
export interface Seen<T> {
  readonly item: T;
  readonly index: number;
  readonly id: AuthorityId;
  readonly stream: string;
  readonly canon: Canon;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function legacySide(u: LegacyUpdate): LegacySide {
  return {
    topic: u.topic,
    watermark: u.watermark.toString(),
    docKey: u.docKey,
    docVersion: u.docVersion.toString(),
    payload: u.payload === null ? null : JSON.stringify(u.payload),
    payloadHash: u.payloadHash,
    atMs: u.atMs,
  };
}

export function candidateSide(e: CandidateEvent): CandidateSide {
  let payload: string;
  try {
    payload = utf8.decode(e.payload);
  } catch {
    payload = `base64:${Buffer.from(e.payload).toString('base64')}`;
  }
  return {
    streamId: e.streamId,
    seq: e.seq.toString(),
    idempotencyKey: e.idempotencyKey,
    payload,
    payloadHash: Buffer.from(e.payloadHash).toString('hex'),
    atMs: e.atMs,
  };
}

export const keyJson = (id: AuthorityId) => ({
  topic: id.topic,
  docKey: id.docKey,
  version: id.version.toString(),
});
