/**
 * Authority seqs on the real module (devhost, SDK, bindings): ordered per (stream, authority topic),
 * never dropped silently. Each case is a reproduction from the security audit (finding 2): two
 * authorities in one stream, a dead-lettered event replayed after its stream moved on, one envelope
 * with a huge seq blocking a stream, and the same event re-sent under a new key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connected, connect, rejection } from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';
import { seqKeys, useWriterWithReceipts } from './testing/sync-module-fixture.js';

const sync = useWriterWithReceipts(['sync_stream', 'sync_event']);
let stranger: Connected;

beforeAll(async () => {
  stranger = await connect(sync.devhost);
});

afterAll(() => {
  stranger?.conn.disconnect();
});

const ev = (stream: string, key: string, topic: string, seq: bigint, body = key) =>
  eventInput(stream, key, { body, sourceTopic: topic, sourceSeq: seq });
const append = (e: ReturnType<typeof ev>) => sync.writer.conn.reducers.appendSyncEvent({ event: e });
const stored = (stream: string) => seqKeys(sync.writer.conn, stream);
const receiptsOf = (stream: string) =>
  sync.receipts.filter((r) => r.stream === stream).map((r) => `${r.key}->${r.seq} ${r.status}`);

describe('authority seqs per (stream, authority topic)', () => {
  it('two authorities on one stream both append (audit H)', async () => {
    await append(ev('mix:1', 'rt-100', 'runtime', 100n));
    await append(ev('mix:1', 'ctl-1', 'control', 1n));
    await append(ev('mix:1', 'ctl-2', 'control', 2n));
    await append(ev('mix:1', 'rt-101', 'runtime', 101n));
    expect(stored('mix:1')).toEqual(['1:rt-100', '2:ctl-1', '3:ctl-2', '4:rt-101']);
    // Each order is still checked on its own: control's seq 2 is taken.
    expect(await rejection(append(ev('mix:1', 'ctl-again', 'control', 2n)))).toMatch(
      /^source_regression: stream 'mix:1' already holds authority seq 2 of 'control'/,
    );
  });

  it('a dead-lettered event replayed after its stream moved on fills its gap (audit G)', async () => {
    await append(ev('dl:1', 'k1', 'authority', 1n));
    await append(ev('dl:1', 'k3', 'authority', 3n)); // seq 2 went to the dead-letter topic
    await append(ev('dl:1', 'k2', 'authority', 2n)); // the replay
    expect(stored('dl:1')).toEqual(['1:k1', '2:k3', '3:k2']);
    const s = sync.writer.conn.db.syncStream.stream_id.find('dl:1');
    expect([s?.headSeq, s?.lastSourceSeq, s?.sourceGapMissing]).toEqual([3n, 3n, 0n]);
    // Replaying it twice is a duplicate by key; the filled seq under another key is a regression.
    await append(ev('dl:1', 'k2', 'authority', 2n));
    expect(receiptsOf('dl:1').at(-1)).toBe('k2->3 duplicate');
    expect(await rejection(append(ev('dl:1', 'k2-other', 'authority', 2n, 'different')))).toMatch(
      /^source_regression: /,
    );
  });

  it('a late event splits the gap it lands in; the rest of the gap stays open', async () => {
    await append(ev('gap:1', 'a', 'authority', 1n));
    await append(ev('gap:1', 'e', 'authority', 5n)); // 2..4 open
    await append(ev('gap:1', 'c', 'authority', 3n));
    await append(ev('gap:1', 'b', 'authority', 2n));
    await append(ev('gap:1', 'd', 'authority', 4n));
    expect(stored('gap:1')).toEqual(['1:a', '2:e', '3:c', '4:b', '5:d']);
    expect(sync.writer.conn.db.syncStream.stream_id.find('gap:1')?.sourceGapMissing).toBe(0n);
  });

  it('the same event re-sent under a new key is answered with the seq it already holds (already have it)', async () => {
    await append(ev('resend:1', 'old-key', 'authority', 7n, 'payload'));
    await append(ev('resend:1', 'new-key', 'authority', 7n, 'payload'));
    expect(stored('resend:1')).toEqual(['1:old-key']);
    expect(receiptsOf('resend:1')).toEqual(['old-key->1 appended', 'new-key->1 duplicate']);
    // Under a new key with another payload it is not the same event: refused with the reason.
    expect(await rejection(append(ev('resend:1', 'other-key', 'authority', 7n, 'other')))).toMatch(
      /^source_regression: stream 'resend:1' already holds authority seq 7 of 'authority'; key 'other-key' offers 7/,
    );
  });

  it('one envelope with a huge authority seq is refused and cannot block the stream (audit A)', async () => {
    await append(ev('orders:1', 'legit-1', 'billing', 1n));
    const refused = await rejection(append(ev('orders:1', 'attack', 'billing', 2n ** 64n - 1n)));
    expect(refused).toMatch(
      /^invalid: stream 'orders:1' is at authority seq 1 of 'billing'; .* more than the allowed step of 1000000 ahead/,
    );
    expect(refused).toContain('"rule_id":"authority_seq.max_forward_jump"');
    await append(ev('orders:1', 'legit-2', 'billing', 2n));
    await append(ev('orders:1', 'legit-3', 'billing', 3n));
    expect(stored('orders:1')).toEqual(['1:legit-1', '2:legit-2', '3:legit-3']);
    // Also the first event of a topic: a stream never written cannot be blackholed either.
    expect(await rejection(append(ev('fresh:1', 'attack', 'billing', 2n ** 63n)))).toMatch(/^invalid: /);
    await append(ev('fresh:1', 'first', 'billing', 1n));
    expect(stored('fresh:1')).toEqual(['1:first']);
  });

  it('writers configure the bound; others may not, and 0 is refused', async () => {
    await sync.writer.conn.reducers.setSourcePolicy({ maxForwardJump: 10n });
    try {
      await append(ev('bound:1', 'a', 'authority', 10n));
      expect(await rejection(append(ev('bound:1', 'b', 'authority', 21n)))).toMatch(
        /allowed step of 10 ahead/,
      );
      await append(ev('bound:1', 'c', 'authority', 20n));
      expect(await rejection(stranger.conn.reducers.setSourcePolicy({ maxForwardJump: 2n ** 63n }))).toMatch(
        /^unauthorized: /,
      );
      expect(await rejection(sync.writer.conn.reducers.setSourcePolicy({ maxForwardJump: 0n }))).toMatch(
        /^invalid: max_forward_jump must be at least 1/,
      );
    } finally {
      await sync.writer.conn.reducers.setSourcePolicy({ maxForwardJump: 1_000_000n });
    }
  });
});
