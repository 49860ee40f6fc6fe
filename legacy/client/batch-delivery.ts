/**
 * What the legacy client does with an update batch: each row handed to the application once, keyed
 * by (topic, watermark) — the lane sends every batch twice —, a watermark reused for another payload
 * and a payload that does not match its hash reported, and each row marked `replay` while a
 * subscribe of its topic is in flight (the lane replays first and replies last), else `live`.
 */
import { legacyPayloadHash } from '../protocol/canonical-json.js';
import type { LegacyUpdate, ParsedBatch } from './batch.js';
import { LegacyLaneError } from './errors.js';
import type { UpdateDedupe } from './update-dedupe.js';

export interface ClientStats {
  readonly delivered: number;
  readonly duplicates: number;
  readonly batches: number;
}

export class BatchDelivery {
  private readonly replaying = new Map<string, number>();
  private counts = { delivered: 0, duplicates: 0, batches: 0 };

  constructor(
    private readonly dedupe: UpdateDedupe,
    private readonly o: {
      readonly verifyHashes: boolean;
      readonly onUpdate?: (update: LegacyUpdate) => void;
      readonly report: (error: LegacyLaneError) => void;
    },
  ) {}

  stats(): ClientStats {
    return { ...this.counts };
  }

  /** Rows of `topics` are replay until the matching `replayDone` (subscribes may overlap). */
  replayStarted(topics: readonly string[]): void {
    for (const t of topics) this.replaying.set(t, (this.replaying.get(t) ?? 0) + 1);
  }

  replayDone(topics: readonly string[]): void {
    for (const t of topics) {
      const n = (this.replaying.get(t) ?? 1) - 1;
      if (n <= 0) this.replaying.delete(t);
      else this.replaying.set(t, n);
    }
  }

  deliver(batch: ParsedBatch): void {
    this.counts.batches++;
    for (const u of batch.updates) {
      const verdict = this.dedupe.check(u.topic, u.watermark, u.payloadHash);
      if (verdict === 'duplicate') {
        this.counts.duplicates++;
        continue;
      }
      if (verdict === 'reused') {
        this.o.report(
          new LegacyLaneError(
            'watermark_reused',
            `${u.topic} watermark ${u.watermark} arrived again with another payload hash`,
            u,
          ),
        );
        continue;
      }
      if (
        this.o.verifyHashes &&
        u.payload !== null &&
        u.payloadHash !== null &&
        legacyPayloadHash(u.payload) !== u.payloadHash
      ) {
        this.o.report(
          new LegacyLaneError(
            'bad_frame_payload',
            `${u.topic} watermark ${u.watermark}: payload_hash does not match the payload`,
            u,
          ),
        );
      }
      this.counts.delivered++;
      this.o.onUpdate?.({ ...u, phase: this.replaying.has(u.topic) ? 'replay' : 'live' });
    }
  }
}
