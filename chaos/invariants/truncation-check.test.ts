import { describe, expect, it } from 'vitest';
import { checkInvariants } from './check.js';
import type { ClientEntry, History, Truncation } from './history.js';

/**
 * Stream `s`, 10 events published and stored at their authority seqs; retention dropped 1..6 while
 * client `off` (which had applied 1..3) was offline; client `on` followed along the whole time.
 */
const published = Array.from({ length: 10 }, (_, i) => ({
  streamId: 's',
  key: `s#${i + 1}`,
  payloadHash: `h${i + 1}`,
  seq: BigInt(i + 1),
}));
const storedFrom = (low: number) =>
  published.filter((p) => p.seq >= BigInt(low)).map((p) => ({ ...p, seq: p.seq as bigint }));
const applied = (seq: number, epoch = 1n): ClientEntry => ({
  type: 'applied',
  streamId: 's',
  epoch,
  seq: BigInt(seq),
  key: `s#${seq}`,
  payloadHash: `h${seq}`,
});
const range = (a: number, b: number, epoch = 1n) =>
  Array.from({ length: b - a + 1 }, (_, i) => applied(a + i, epoch));
const truncation: Truncation = {
  streamId: 's',
  lowWatermark: 7n,
  epoch: 1n,
  offline: [{ clientId: 'off', entriesBefore: 3 }],
};

function history(offAfter: ClientEntry[], t: Truncation = truncation, low = 7): History {
  return {
    published,
    stored: storedFrom(low),
    heads: [{ streamId: 's', headSeq: 10n, lowWatermark: BigInt(low), epoch: t.epoch }],
    clients: [
      { clientId: 'on', entries: range(1, 10) },
      { clientId: 'off', entries: [...range(1, 3), ...offAfter] },
    ],
    truncations: [t],
  };
}

const kinds = (h: History) => checkInvariants(h).map((v) => v.kind);

describe('the checker after a truncation on purpose while clients were offline', () => {
  it('accepts events retention dropped and a truncated client that rebootstrapped', () => {
    const rebootstrap: ClientEntry = { type: 'rebootstrap', streamId: 's', epoch: 1n, watermark: 6n };
    expect(checkInvariants(history([rebootstrap, ...range(7, 10)]))).toEqual([]);
  });

  it('calls a client that skipped to the retained history without a word a violation', () => {
    // The client's own gap check sees 3 -> 7; the truncation check names the missed rebootstrap.
    expect(kinds(history(range(7, 10)))).toEqual(['client_gap', 'missed_rebootstrap']);
  });

  it('calls a truncated client that never came back to the stream a violation', () => {
    expect(kinds(history([]))).toEqual(['missed_rebootstrap']);
  });

  it('requires the rebootstrap to reach the new epoch after an epoch change', () => {
    const reset: Truncation = { ...truncation, epoch: 2n, lowWatermark: 11n };
    const old: ClientEntry = { type: 'rebootstrap', streamId: 's', epoch: 1n, watermark: 10n };
    expect(kinds(history([old], reset, 11))).toContain('missed_rebootstrap');
    const good: ClientEntry = { type: 'rebootstrap', streamId: 's', epoch: 2n, watermark: 10n };
    const h = history([good], reset, 11);
    // The online client followed along in epoch 1; it would rebootstrap too, which is not this test's point.
    expect(checkInvariants({ ...h, clients: h.clients.slice(1) })).toEqual([]);
  });

  it('does not excuse a missing event above the truncation, nor one without an authority seq', () => {
    const h = history([{ type: 'rebootstrap', streamId: 's', epoch: 1n, watermark: 6n }, ...range(7, 10)]);
    const missing8 = { ...h, stored: h.stored.filter((e) => e.seq !== 8n) };
    expect(kinds(missing8)).toContain('lost');
    const noSeq = { ...h, published: h.published.map(({ seq: _, ...p }) => p) };
    expect(kinds(noSeq).filter((k) => k === 'lost')).toHaveLength(6);
  });

  it('finds an event stored at another seq than the authority gave it (a lost one hidden below)', () => {
    const h = history([{ type: 'rebootstrap', streamId: 's', epoch: 1n, watermark: 6n }, ...range(7, 10)]);
    const shifted = { ...h, stored: h.stored.map((e) => (e.key === 's#9' ? { ...e, seq: 8n } : e)) };
    expect(kinds(shifted)).toContain('seq_mismatch');
  });

  it('leaves a client that was not truncated past alone', () => {
    const shallow: Truncation = { ...truncation, lowWatermark: 3n };
    expect(checkInvariants(history(range(4, 10), shallow, 3))).toEqual([]);
  });
});
