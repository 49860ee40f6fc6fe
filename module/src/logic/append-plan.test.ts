import { describe, expect, it } from 'vitest';
import { planAppend } from './append-plan.ts';

const h = (n: number) => new Uint8Array(32).fill(n);
const head = (head_seq: bigint, last_source_seq: bigint) => ({ head_seq, last_source_seq });

describe('planAppend', () => {
  it('gives a new key the next seq', () => {
    expect(
      planAppend(head(0n, 0n), undefined, { idempotency_key: 'a', payload_hash: h(1), source_seq: 1n }),
    ).toEqual({
      kind: 'append',
      seq: 1n,
    });
    expect(
      planAppend(head(7n, 7n), undefined, { idempotency_key: 'b', payload_hash: h(1), source_seq: 8n }),
    ).toEqual({
      kind: 'append',
      seq: 8n,
    });
  });

  it('treats the same key and hash as a duplicate of the existing seq', () => {
    const d = planAppend(
      head(9n, 9n),
      { seq: 4n, payload_hash: h(2) },
      { idempotency_key: 'k', payload_hash: h(2), source_seq: 4n },
    );
    expect(d).toEqual({ kind: 'duplicate', seq: 4n });
  });

  it('refuses the same key with a different hash', () => {
    const d = planAppend(
      head(9n, 9n),
      { seq: 4n, payload_hash: h(2) },
      { idempotency_key: 'k', payload_hash: h(3), source_seq: 10n },
    );
    expect(d).toEqual({ kind: 'conflict', seq: 4n });
  });

  it('skips a new key whose authority seq went backwards', () => {
    const d = planAppend(head(5n, 20n), undefined, {
      idempotency_key: 'new',
      payload_hash: h(1),
      source_seq: 20n,
    });
    expect(d).toEqual({ kind: 'source_regression', last_source_seq: 20n });
  });

  it('records the missing authority seqs of a forward jump and still appends', () => {
    const d = planAppend(head(5n, 20n), undefined, {
      idempotency_key: 'n',
      payload_hash: h(1),
      source_seq: 24n,
    });
    expect(d).toEqual({ kind: 'append', seq: 6n, gap: { from: 21n, to: 23n } });
  });

  it('ignores authority seq checks when the source has none (0)', () => {
    const d = planAppend(head(5n, 20n), undefined, {
      idempotency_key: 'n',
      payload_hash: h(1),
      source_seq: 0n,
    });
    expect(d).toEqual({ kind: 'append', seq: 6n });
  });
});
