import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { type OutboxEntry, toNostrEvent, UnpublishableError } from './nostr-event.js';

const entry: OutboxEntry = {
  bridgeKey: 'orders:1/7',
  streamId: 'orders:1',
  seq: 7n,
  kind: 1,
  payload: new TextEncoder().encode('{"total":42}'),
  createdAtMicros: 1_764_500_000_123_456n,
};

describe('toNostrEvent', () => {
  it('signs a valid NIP-01 event whose id depends only on the row, so a redelivery is the same event', () => {
    const key = generateSecretKey();
    const a = toNostrEvent(entry, key);
    const b = toNostrEvent(entry, key);
    expect(verifyEvent(a)).toBe(true);
    expect(verifyEvent(b)).toBe(true);
    expect(a.id).toBe(b.id);
    expect(a).toMatchObject({
      pubkey: getPublicKey(key),
      kind: 1,
      created_at: 1_764_500_000,
      content: '{"total":42}',
      tags: [
        ['d', 'orders:1/7'],
        ['stream', 'orders:1', '7'],
      ],
    });
    expect(toNostrEvent({ ...entry, bridgeKey: 'orders:1/8' }, key).id).not.toBe(a.id);
  });

  it('refuses a payload that is not UTF-8 text with a typed error', () => {
    expect(() =>
      toNostrEvent({ ...entry, payload: new Uint8Array([0xff, 0xfe]) }, generateSecretKey()),
    ).toThrow(UnpublishableError);
  });
});
