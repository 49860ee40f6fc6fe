/**
 * The one invariant checker every chaos scenario ends with. Pure: it reads a History and lists what
 * is wrong, each violation naming the stream (and client) so a failing round says where to look.
 *
 * Per stream:
 *  - SpacetimeDB holds exactly the events the authority published: none lost, none it never sent,
 *    none twice, each with the published payload hash (events are identified by idempotency key);
 *  - its seqs run gapless from the low watermark to the durable head;
 *    (Events below the low watermark of a truncation the run made on purpose are retired, not lost.)
 * Per client and stream:
 *  - no event applied twice and no seq skipped, except across a rebootstrap the client journaled;
 *  - what it applied since its last rebootstrap is what SpacetimeDB holds at those seqs, and never
 *    beyond the durable head (older segments are checked only against themselves: retention or a
 *    reset may have dropped what they applied);
 *  - no rebootstrap because the server went back below what the client applied (`server_behind`):
 *    with confirmed reads a client only ever applies what is durable.
 */
import type { ClientEntry, History, StoredEvent, StreamHead } from './history.js';
import { checkTruncations, isRetired, retiredBelow, type TruncationViolation } from './truncation-check.js';

export type Violation =
  | { readonly kind: 'lost'; readonly streamId: string; readonly key: string }
  | { readonly kind: 'unexpected'; readonly streamId: string; readonly key: string }
  | { readonly kind: 'payload_mismatch'; readonly streamId: string; readonly key: string }
  | {
      readonly kind: 'duplicate_stored';
      readonly streamId: string;
      readonly key: string;
      readonly seqs: string;
    }
  | { readonly kind: 'gap'; readonly streamId: string; readonly detail: string }
  | ClientViolation
  | TruncationViolation
  | { readonly kind: 'parity_divergence'; readonly detail: string };

type ClientViolation = {
  readonly kind:
    | 'client_duplicate'
    | 'client_gap'
    | 'client_mismatch'
    | 'watermark_beyond_head'
    | 'server_behind';
  readonly clientId: string;
  readonly streamId: string;
  readonly detail: string;
};

export type ViolationKind = Violation['kind'];

export interface CheckOptions {
  /** Streams that are not the authority's (the adapter's delivery probe). */
  readonly ignoreStreams?: readonly string[];
}

export function checkInvariants(history: History, options: CheckOptions = {}): Violation[] {
  const ignored = new Set(options.ignoreStreams ?? []);
  const stored = history.stored.filter((e) => !ignored.has(e.streamId));
  const heads = new Map(history.heads.filter((h) => !ignored.has(h.streamId)).map((h) => [h.streamId, h]));
  const bySeq = new Map<string, Map<bigint, StoredEvent>>();
  for (const e of stored) {
    const m = bySeq.get(e.streamId) ?? new Map<bigint, StoredEvent>();
    m.set(e.seq, e);
    bySeq.set(e.streamId, m);
  }
  return [
    ...checkStoredSet(history, stored, ignored),
    ...checkSeqs(stored, heads),
    ...history.clients.flatMap((c) => checkClient(c.clientId, c.entries, heads, bySeq, ignored)),
    // After a truncation on purpose: offline clients truncated past must have said so (truncation-check.ts).
    ...checkTruncations(history, ignored),
    ...(history.parity && history.parity.divergences > 0
      ? [
          {
            kind: 'parity_divergence' as const,
            detail: `${history.parity.divergences} divergences; first: ${history.parity.first ?? '?'}`,
          },
        ]
      : []),
  ];
}

function checkStoredSet(history: History, stored: readonly StoredEvent[], ignored: Set<string>): Violation[] {
  const out: Violation[] = [];
  const published = new Map<string, string>();
  const retired = new Set<string>();
  const below = retiredBelow(history.truncations);
  for (const p of history.published) {
    if (ignored.has(p.streamId)) continue;
    published.set(`${p.streamId}\u0000${p.key}`, p.payloadHash);
    if (isRetired(p, below)) retired.add(`${p.streamId}\u0000${p.key}`);
  }
  const seen = new Map<string, bigint[]>();
  for (const e of stored) {
    const id = `${e.streamId}\u0000${e.key}`;
    seen.set(id, [...(seen.get(id) ?? []), e.seq]);
    const hash = published.get(id);
    if (hash === undefined) out.push({ kind: 'unexpected', streamId: e.streamId, key: e.key });
    else if (hash !== e.payloadHash) out.push({ kind: 'payload_mismatch', streamId: e.streamId, key: e.key });
  }
  for (const [id, seqs] of seen) {
    if (seqs.length < 2) continue;
    const [streamId, key] = id.split('\u0000') as [string, string];
    out.push({ kind: 'duplicate_stored', streamId, key, seqs: seqs.join(',') });
  }
  for (const id of published.keys()) {
    if (seen.has(id) || retired.has(id)) continue;
    const [streamId, key] = id.split('\u0000') as [string, string];
    out.push({ kind: 'lost', streamId, key });
  }
  return out;
}

function checkSeqs(stored: readonly StoredEvent[], heads: Map<string, StreamHead>): Violation[] {
  const out: Violation[] = [];
  const seqs = new Map<string, bigint[]>();
  for (const e of stored) seqs.set(e.streamId, [...(seqs.get(e.streamId) ?? []), e.seq]);
  for (const [streamId, list] of seqs) {
    const head = heads.get(streamId);
    if (!head) {
      out.push({ kind: 'gap', streamId, detail: 'events stored for a stream without a head row' });
      continue;
    }
    list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let expected = head.lowWatermark;
    const hole = list.find((seq) => seq !== expected++);
    if (hole !== undefined)
      out.push({ kind: 'gap', streamId, detail: `expected seq ${expected - 1n}, found ${hole}` });
    else if (expected - 1n !== head.headSeq)
      out.push({
        kind: 'gap',
        streamId,
        detail: `stored seqs end at ${expected - 1n}, head is ${head.headSeq}`,
      });
  }
  for (const [streamId, head] of heads)
    if (!seqs.has(streamId) && head.headSeq >= head.lowWatermark)
      out.push({ kind: 'gap', streamId, detail: `head ${head.headSeq} but no events stored` });
  return out;
}

interface Cursor {
  epoch: bigint | undefined;
  watermark: bigint | undefined;
  keys: Set<string>;
  /** Applied since the last rebootstrap (or the start): checked against SpacetimeDB at the end. */
  segment: Extract<ClientEntry, { type: 'applied' }>[];
}

function checkClient(
  clientId: string,
  entries: readonly ClientEntry[],
  heads: Map<string, StreamHead>,
  bySeq: Map<string, Map<bigint, StoredEvent>>,
  ignored: Set<string>,
): ClientViolation[] {
  const out: ClientViolation[] = [];
  const v = (kind: ClientViolation['kind'], streamId: string, detail: string) =>
    out.push({ kind, clientId, streamId, detail });
  const cursors = new Map<string, Cursor>();
  for (const entry of entries) {
    if (ignored.has(entry.streamId)) continue;
    const c = cursors.get(entry.streamId) ?? {
      epoch: undefined,
      watermark: undefined,
      keys: new Set(),
      segment: [],
    };
    cursors.set(entry.streamId, c);
    if (entry.type === 'rebootstrap') {
      // With confirmed reads a client only applies what is durable: a server below it lost history
      // it had confirmed (issue 17: a rolled-back transaction released after a full disk).
      if (entry.reason === 'server_behind')
        v(
          'server_behind',
          entry.streamId,
          `rebootstrapped to seq ${entry.watermark} of epoch ${entry.epoch}: the server went back below what the client had applied`,
        );
      Object.assign(c, { epoch: entry.epoch, watermark: entry.watermark, keys: new Set(), segment: [] });
      continue;
    }
    if (c.keys.has(entry.key))
      v('client_duplicate', entry.streamId, `${entry.key} applied again at seq ${entry.seq}`);
    else if (c.epoch !== undefined && entry.epoch !== c.epoch)
      v('client_gap', entry.streamId, `epoch ${c.epoch} -> ${entry.epoch} without a rebootstrap`);
    else if (c.watermark !== undefined && entry.seq !== c.watermark + 1n)
      v('client_gap', entry.streamId, `after seq ${c.watermark} applied seq ${entry.seq}`);
    c.keys.add(entry.key);
    c.epoch = entry.epoch;
    c.watermark = entry.seq;
    c.segment.push(entry);
  }
  for (const [streamId, c] of cursors) {
    const head = heads.get(streamId);
    if (c.watermark === undefined || c.epoch === undefined) continue;
    if (!head || (head.epoch === c.epoch && c.watermark > head.headSeq)) {
      v(
        'watermark_beyond_head',
        streamId,
        `watermark ${c.watermark}, durable head ${head?.headSeq ?? 'none'}`,
      );
      continue;
    }
    if (head.epoch !== c.epoch) continue;
    for (const e of c.segment) {
      const s = bySeq.get(streamId)?.get(e.seq);
      if (e.seq < head.lowWatermark) continue; // retained no longer: nothing to compare against
      if (!s || s.key !== e.key || s.payloadHash !== e.payloadHash)
        v('client_mismatch', streamId, `seq ${e.seq}: applied ${e.key}, stored ${s?.key ?? 'nothing'}`);
    }
  }
  return out;
}

/** Violations counted by kind, every kind present (zeros included) so a report shows what was checked. */
export function countByKind(violations: readonly Violation[]): Record<ViolationKind, number> {
  const counts: Record<ViolationKind, number> = {
    lost: 0,
    unexpected: 0,
    payload_mismatch: 0,
    duplicate_stored: 0,
    gap: 0,
    client_duplicate: 0,
    client_gap: 0,
    client_mismatch: 0,
    watermark_beyond_head: 0,
    server_behind: 0,
    missed_rebootstrap: 0,
    seq_mismatch: 0,
    parity_divergence: 0,
  };
  for (const x of violations) counts[x.kind] += 1;
  return counts;
}
