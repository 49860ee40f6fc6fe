/**
 * What "correct" means after history was dropped on purpose while clients were offline (the chaos
 * fault `offline_truncate`): the events below the truncation's low watermark are gone from
 * SpacetimeDB by design (retired, not lost), and a client whose cursor pointed into the dropped
 * history — or into an older epoch — must say so with a rebootstrap before it applies anything of
 * that stream again. Applying the next retained seq as if nothing happened would claim a gapless
 * history it does not have.
 */
import type { ClientEntry, History, PublishedEvent, StoredEvent, Truncation } from './history.js';

export type TruncationViolation =
  | {
      /** A client truncated past (or across an epoch change) that never reported it. */
      readonly kind: 'missed_rebootstrap';
      readonly clientId: string;
      readonly streamId: string;
      readonly detail: string;
    }
  | {
      /** On a truncated stream an event is not stored at its authority seq: the retired set would be wrong. */
      readonly kind: 'seq_mismatch';
      readonly streamId: string;
      readonly key: string;
      readonly detail: string;
    };

/** Per stream, the highest low watermark a truncation on purpose left: published events below it may be gone. */
export function retiredBelow(truncations: readonly Truncation[] | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const t of truncations ?? [])
    if (t.lowWatermark > (out.get(t.streamId) ?? 0n)) out.set(t.streamId, t.lowWatermark);
  return out;
}

/** A published event the truncations allow to be missing from SpacetimeDB. */
export function isRetired(p: PublishedEvent, below: Map<string, bigint>): boolean {
  const low = below.get(p.streamId);
  return low !== undefined && p.seq !== undefined && p.seq < low;
}

export function checkTruncations(history: History, ignored: Set<string>): TruncationViolation[] {
  const truncations = (history.truncations ?? []).filter((t) => !ignored.has(t.streamId));
  if (truncations.length === 0) return [];
  return [...checkStoredSeqs(history, truncations), ...checkOfflineClients(history, truncations)];
}

/**
 * The retired set is "authority seq below the low watermark", so on a truncated stream every stored
 * event must sit at its authority seq (one lost event would shift all later seqs, and hide itself
 * below the watermark otherwise).
 */
function checkStoredSeqs(history: History, truncations: readonly Truncation[]): TruncationViolation[] {
  const truncated = new Set(truncations.map((t) => t.streamId));
  const seqOf = new Map<string, bigint>();
  for (const p of history.published)
    if (truncated.has(p.streamId) && p.seq !== undefined) seqOf.set(`${p.streamId}\u0000${p.key}`, p.seq);
  const out: TruncationViolation[] = [];
  for (const e of history.stored as readonly StoredEvent[]) {
    const want = seqOf.get(`${e.streamId}\u0000${e.key}`);
    if (want !== undefined && want !== e.seq)
      out.push({
        kind: 'seq_mismatch',
        streamId: e.streamId,
        key: e.key,
        detail: `stored at seq ${e.seq}, published as the stream's seq ${want}`,
      });
  }
  return out;
}

/** Where a client's journal left a stream: its epoch and last applied (or rebootstrapped-to) seq. */
function cursorAt(entries: readonly ClientEntry[], streamId: string, end: number) {
  let epoch: bigint | undefined;
  let watermark = 0n;
  for (const e of entries.slice(0, end)) {
    if (e.streamId !== streamId) continue;
    epoch = e.epoch;
    watermark = e.type === 'applied' ? e.seq : e.watermark;
  }
  return { epoch, watermark };
}

function checkOfflineClients(history: History, truncations: readonly Truncation[]): TruncationViolation[] {
  const out: TruncationViolation[] = [];
  const journals = new Map(history.clients.map((c) => [c.clientId, c.entries]));
  for (const t of truncations) {
    for (const o of t.offline) {
      const entries = journals.get(o.clientId) ?? [];
      const at = cursorAt(entries, t.streamId, o.entriesBefore);
      const stale = (at.epoch !== undefined && at.epoch !== t.epoch) || at.watermark + 1n < t.lowWatermark;
      if (!stale) continue;
      const next = entries.slice(o.entriesBefore).find((e) => e.streamId === t.streamId);
      const v = (detail: string) =>
        out.push({ kind: 'missed_rebootstrap', clientId: o.clientId, streamId: t.streamId, detail });
      const what = `offline at seq ${at.watermark} (epoch ${at.epoch ?? 'none'}) across a truncation to low ${t.lowWatermark}, epoch ${t.epoch}`;
      if (!next) v(`${what}: nothing journaled for the stream since`);
      else if (next.type === 'applied')
        v(`${what}: applied seq ${next.seq} (epoch ${next.epoch}) without a rebootstrap first`);
      else if (next.epoch < t.epoch || next.watermark + 1n < t.lowWatermark)
        v(
          `${what}: rebootstrapped to seq ${next.watermark} of epoch ${next.epoch}, still inside what was dropped`,
        );
    }
  }
  return out;
}
