/**
 * Parsing of `sync:subscribe` / `sync:unsubscribe` payloads exactly as the generation-1 channel did
 * (fact sheet §4): topics are trimmed, non-strings and empties dropped, deduplicated, and an empty
 * result is a bad subscription; `resume_after` is either `{topic: watermark}` or
 * `[{topic, watermark}]` with JSON integers ≥ 0 (a string watermark is refused).
 */

export interface SubscribeRequest {
  readonly topics: readonly string[];
  /** Present entries only: a topic without one is not stale-checked and replays from the channel's mark. */
  readonly resumeAfter: ReadonlyMap<string, number>;
  /** `replay_batch_size` when a positive integer, else undefined (the lane's default applies). */
  readonly replayBatchSize: number | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWatermark(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The topic list rule shared by subscribe and unsubscribe; undefined = bad_subscription. */
export function normalizeTopics(topics: unknown): string[] | undefined {
  if (!Array.isArray(topics)) return undefined;
  const out: string[] = [];
  for (const t of topics) {
    if (typeof t !== 'string') continue;
    const trimmed = t.trim();
    if (trimmed !== '' && !out.includes(trimmed)) out.push(trimmed);
  }
  return out.length > 0 ? out : undefined;
}

/** Either accepted shape of `resume_after`; undefined = bad_subscription. Absent = no entries. */
export function parseResumeAfter(value: unknown): Map<string, number> | undefined {
  const out = new Map<string, number>();
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (!isRecord(entry) || typeof entry.topic !== 'string' || !isWatermark(entry.watermark))
        return undefined;
      out.set(entry.topic, entry.watermark);
    }
    return out;
  }
  if (!isRecord(value)) return undefined;
  for (const [topic, watermark] of Object.entries(value)) {
    if (!isWatermark(watermark)) return undefined;
    out.set(topic, watermark);
  }
  return out;
}

export function replayBatchSize(payload: Record<string, unknown>): number | undefined {
  const v = payload.replay_batch_size;
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

export function isPayloadObject(payload: unknown): payload is Record<string, unknown> {
  return isRecord(payload);
}
