import { describe, expect, it } from 'vitest';
import { checkInvariants, countByKind, type ViolationKind } from './check.js';
import { journalLine, parseJournal } from './collect.js';
import type { ClientEntry, History, StoredEvent } from './history.js';

/** A clean run: two streams of three events each, one client that applied all of them. */
function cleanHistory(): History {
  const streams = ['a', 'b'];
  const published = streams.flatMap((s) =>
    [1, 2, 3].map((i) => ({ streamId: s, key: `${s}${i}`, payloadHash: `h${s}${i}` })),
  );
  const stored: StoredEvent[] = published.map((p, i) => ({ ...p, seq: BigInt((i % 3) + 1) }));
  const entries: ClientEntry[] = stored.map((e) => ({ type: 'applied', epoch: 1n, ...e }));
  return {
    published,
    stored,
    heads: streams.map((s) => ({ streamId: s, headSeq: 3n, lowWatermark: 1n, epoch: 1n })),
    clients: [{ clientId: 'c1', entries }],
  };
}

function kinds(h: History): ViolationKind[] {
  return checkInvariants(h, { ignoreStreams: ['probe'] }).map((v) => v.kind);
}

const applied = (streamId: string, seq: bigint, key: string, epoch = 1n): ClientEntry => ({
  type: 'applied',
  streamId,
  epoch,
  seq,
  key,
  payloadHash: `h${key}`,
});

describe('checkInvariants', () => {
  it('finds nothing wrong in a clean run, and ignores the probe stream', () => {
    const h = cleanHistory();
    const withProbe: History = {
      ...h,
      stored: [...h.stored, { streamId: 'probe', seq: 7n, key: 'p', payloadHash: 'x' }],
    };
    expect(kinds(withProbe)).toEqual([]);
  });

  it('a published event SpacetimeDB does not hold is lost', () => {
    const h = cleanHistory();
    expect(
      kinds({ ...h, published: [...h.published, { streamId: 'a', key: 'a4', payloadHash: 'ha4' }] }),
    ).toEqual(['lost']);
  });

  it('an event nobody published is unexpected', () => {
    const h = cleanHistory();
    const extra = { streamId: 'a', seq: 4n, key: 'zz', payloadHash: 'hzz' };
    const heads = h.heads.map((x) => (x.streamId === 'a' ? { ...x, headSeq: 4n } : x));
    expect(kinds({ ...h, stored: [...h.stored, extra], heads })).toEqual(['unexpected']);
  });

  it('an event stored with another payload hash than published is a payload mismatch', () => {
    const h = cleanHistory();
    const stored = h.stored.map((e) => (e.key === 'b2' ? { ...e, payloadHash: 'other' } : e));
    // The client applied what was stored, so only the authority comparison fails.
    const clients = [
      { clientId: 'c1', entries: stored.map((e) => ({ type: 'applied' as const, epoch: 1n, ...e })) },
    ];
    expect(kinds({ ...h, stored, clients })).toEqual(['payload_mismatch']);
  });

  it('one event appended twice is a stored duplicate', () => {
    const h = cleanHistory();
    const stored = [...h.stored, { streamId: 'a', seq: 4n, key: 'a3', payloadHash: 'ha3' }];
    const heads = h.heads.map((x) => (x.streamId === 'a' ? { ...x, headSeq: 4n } : x));
    expect(kinds({ ...h, stored, heads })).toEqual(['duplicate_stored']);
  });

  it('a missing seq, a head past the stored seqs, and a head without events are gaps', () => {
    const h = cleanHistory();
    const hole = h.stored
      .filter((e) => !(e.streamId === 'a' && e.seq === 2n))
      .map((e) =>
        e.streamId === 'a' && e.seq === 3n ? { ...e, key: 'a2', payloadHash: 'ha2', seq: 3n } : e,
      );
    // a: seqs 1,3 (a3 lost too); the checker reports the hole, not only the loss.
    const k = kinds({ ...h, stored: hole, clients: [] });
    expect(k).toContain('gap');
    const beyond = h.heads.map((x) => (x.streamId === 'b' ? { ...x, headSeq: 5n } : x));
    expect(kinds({ ...h, heads: beyond, clients: [] })).toEqual(['gap']);
    const empty = [...h.heads, { streamId: 'c', headSeq: 2n, lowWatermark: 1n, epoch: 1n }];
    expect(kinds({ ...h, heads: empty })).toEqual(['gap']);
  });

  it('seqs are counted from the low watermark after retention', () => {
    const h = cleanHistory();
    const stored = h.stored.filter((e) => !(e.streamId === 'a' && e.seq === 1n));
    const heads = h.heads.map((x) => (x.streamId === 'a' ? { ...x, lowWatermark: 2n } : x));
    const published = h.published.filter((p) => p.key !== 'a1');
    const clients = [{ clientId: 'c1', entries: h.clients[0]?.entries ?? [] }];
    expect(kinds({ ...h, stored, heads, published, clients })).toEqual([]);
    expect(kinds({ ...h, stored, heads: h.heads, published, clients: [] })).toEqual(['gap']);
  });

  it('a client applying an event twice is a client duplicate', () => {
    const h = cleanHistory();
    const entries = [...(h.clients[0]?.entries ?? []), applied('a', 3n, 'a3')];
    expect(kinds({ ...h, clients: [{ clientId: 'c1', entries }] })).toEqual(['client_duplicate']);
  });

  it('a client skipping a seq, or changing epoch without a rebootstrap, is a client gap', () => {
    const h = cleanHistory();
    const skip = [applied('a', 1n, 'a1'), applied('a', 3n, 'a3')];
    expect(kinds({ ...h, clients: [{ clientId: 'c1', entries: skip }] })).toEqual(['client_gap']);
    const epoch = [applied('a', 1n, 'a1'), applied('a', 2n, 'a2', 2n)];
    expect(kinds({ ...h, clients: [{ clientId: 'c1', entries: epoch }] })).toContain('client_gap');
  });

  it('a journaled rebootstrap allows applying the stream again from its new watermark', () => {
    const h = cleanHistory();
    const entries: ClientEntry[] = [
      applied('a', 1n, 'a1'),
      applied('a', 2n, 'a2'),
      { type: 'rebootstrap', streamId: 'a', epoch: 1n, watermark: 0n },
      applied('a', 1n, 'a1'),
    ];
    expect(kinds({ ...h, clients: [{ clientId: 'c1', entries }] })).toEqual([]);
  });

  it('a rebootstrap because the server went back below what the client applied is a violation; other reasons are not', () => {
    // The 7fa2405 long run: all four clients applied chaos:2 up to 5191, then rebootstrapped it in the
    // same epoch to seq 0 (a rolled-back transaction had reached them); the checker said nothing.
    const h = cleanHistory();
    const entries = (reason: string): ClientEntry[] => [
      applied('a', 1n, 'a1'),
      applied('a', 2n, 'a2'),
      { type: 'rebootstrap', streamId: 'a', epoch: 1n, watermark: 0n, reason },
      applied('a', 1n, 'a1'),
    ];
    const behind = checkInvariants({
      ...h,
      clients: [{ clientId: 'c1', entries: entries('server_behind') }],
    });
    expect(behind).toEqual([
      {
        kind: 'server_behind',
        clientId: 'c1',
        streamId: 'a',
        detail: 'rebootstrapped to seq 0 of epoch 1: the server went back below what the client had applied',
      },
    ]);
    expect(kinds({ ...h, clients: [{ clientId: 'c1', entries: entries('epoch_changed') }] })).toEqual([]);
  });

  it('a journal line keeps the rebootstrap reason (older lines without one still parse)', () => {
    const entry: ClientEntry = {
      type: 'rebootstrap',
      streamId: 'a',
      epoch: 2n,
      watermark: 6n,
      reason: 'server_behind',
    };
    expect(parseJournal(journalLine(entry))).toEqual([entry]);
    expect(parseJournal('{"t":"r","s":"chaos:2","e":"1","w":"0"}\n')).toEqual([
      { type: 'rebootstrap', streamId: 'chaos:2', epoch: 1n, watermark: 0n },
    ]);
  });

  it('a client holding another event at a seq than SpacetimeDB is a client mismatch', () => {
    const h = cleanHistory();
    const entries = [applied('a', 1n, 'a1'), { ...applied('a', 2n, 'a2'), payloadHash: 'forged' }];
    expect(kinds({ ...h, clients: [{ clientId: 'c1', entries }] })).toEqual(['client_mismatch']);
  });

  it('a client watermark past the durable head is caught', () => {
    const h = cleanHistory();
    const entries = [
      applied('a', 1n, 'a1'),
      applied('a', 2n, 'a2'),
      applied('a', 3n, 'a3'),
      applied('a', 4n, 'a4'),
    ];
    expect(kinds({ ...h, clients: [{ clientId: 'c1', entries }] })).toEqual(['watermark_beyond_head']);
  });

  it('parity divergences reported by the harness fail the run', () => {
    expect(kinds({ ...cleanHistory(), parity: { divergences: 2, first: 'missing a:3' } })).toEqual([
      'parity_divergence',
    ]);
    expect(kinds({ ...cleanHistory(), parity: { divergences: 0 } })).toEqual([]);
  });

  it('counts every kind, zeros included', () => {
    const counts = countByKind(checkInvariants({ ...cleanHistory(), published: [] }));
    expect(counts.unexpected).toBe(6);
    expect(counts.lost).toBe(0);
    expect(Object.keys(counts)).toHaveLength(13);
  });
});
