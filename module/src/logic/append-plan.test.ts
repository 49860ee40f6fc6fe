import { describe, expect, it } from 'vitest';
import { type AuthorityOrder, type ExistingEvent, planAppend } from './append-plan.ts';
import { fillGap } from './source-gaps.ts';

const h = (n: number) => new Uint8Array(32).fill(n);
const head = (head_seq: bigint) => ({ head_seq });
const order = (
  last_seq: bigint,
  o: { held?: Record<string, ExistingEvent>; gaps?: [bigint, bigint][]; max?: bigint } = {},
): AuthorityOrder => ({
  last_seq,
  max_forward_jump: o.max ?? 1000n,
  holder: (seq) => o.held?.[String(seq)],
  in_open_gap: (seq) => (o.gaps ?? []).some(([from, to]) => from <= seq && seq <= to),
});
const incoming = (key: string, hash: number, source_seq: bigint) => ({
  idempotency_key: key,
  payload_hash: h(hash),
  source_seq,
});

describe('planAppend', () => {
  it('gives a new key the next seq', () => {
    expect(planAppend(head(0n), undefined, incoming('a', 1, 1n), order(0n))).toEqual({
      kind: 'append',
      seq: 1n,
    });
    expect(planAppend(head(7n), undefined, incoming('b', 1, 8n), order(7n))).toEqual({
      kind: 'append',
      seq: 8n,
    });
  });

  it('treats the same key and hash as a duplicate of the existing seq', () => {
    const d = planAppend(head(9n), { seq: 4n, payload_hash: h(2) }, incoming('k', 2, 4n), order(9n));
    expect(d).toEqual({ kind: 'duplicate', seq: 4n });
  });

  it('refuses the same key with a different hash', () => {
    const d = planAppend(head(9n), { seq: 4n, payload_hash: h(2) }, incoming('k', 3, 10n), order(9n));
    expect(d).toEqual({ kind: 'conflict', seq: 4n });
  });

  it('refuses a new key whose authority seq is taken by another event', () => {
    const held = { '20': { seq: 5n, payload_hash: h(9) } };
    const d = planAppend(head(5n), undefined, incoming('new', 1, 20n), order(20n, { held }));
    expect(d).toEqual({ kind: 'source_regression', last_source_seq: 20n });
  });

  it('answers a new key whose authority seq holds the same payload as that event (already have it)', () => {
    const held = { '18': { seq: 3n, payload_hash: h(1) } };
    const d = planAppend(head(5n), undefined, incoming('renamed', 1, 18n), order(20n, { held }));
    expect(d).toEqual({ kind: 'duplicate', seq: 3n });
  });

  it('refuses an old authority seq that is neither held nor in an open gap', () => {
    const d = planAppend(head(5n), undefined, incoming('old', 1, 2n), order(20n, { gaps: [[11n, 13n]] }));
    expect(d).toEqual({ kind: 'source_regression', last_source_seq: 20n });
  });

  it('appends a late event that fills a gap the authority left', () => {
    const d = planAppend(head(5n), undefined, incoming('late', 1, 12n), order(20n, { gaps: [[11n, 13n]] }));
    expect(d).toEqual({ kind: 'append_late', seq: 6n, fills: 12n });
  });

  it('records the missing authority seqs of a forward step and still appends', () => {
    const d = planAppend(head(5n), undefined, incoming('n', 1, 24n), order(20n));
    expect(d).toEqual({ kind: 'append', seq: 6n, gap: { from: 21n, to: 23n } });
  });

  it('refuses a step forward past the bound, from the topic newest or from nothing', () => {
    expect(planAppend(head(5n), undefined, incoming('n', 1, 1021n), order(20n))).toEqual({
      kind: 'forward_jump',
      last_source_seq: 20n,
      max_forward_jump: 1000n,
    });
    expect(planAppend(head(5n), undefined, incoming('n', 1, 1020n), order(20n)).kind).toBe('append');
    expect(planAppend(head(0n), undefined, incoming('n', 1, 2n ** 64n - 1n), order(0n)).kind).toBe(
      'forward_jump',
    );
  });

  it('ignores authority seq checks when the source has none (0)', () => {
    const d = planAppend(head(5n), undefined, incoming('n', 1, 0n), order(20n));
    expect(d).toEqual({ kind: 'append', seq: 6n });
  });
});

describe('fillGap', () => {
  it('shrinks a gap from either end and splits it in the middle', () => {
    expect(fillGap({ from: 5n, to: 5n }, 5n)).toEqual([]);
    expect(fillGap({ from: 5n, to: 9n }, 5n)).toEqual([{ from: 6n, to: 9n }]);
    expect(fillGap({ from: 5n, to: 9n }, 9n)).toEqual([{ from: 5n, to: 8n }]);
    expect(fillGap({ from: 5n, to: 9n }, 7n)).toEqual([
      { from: 5n, to: 6n },
      { from: 8n, to: 9n },
    ]);
  });
});
