import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { createSigner, type OutboxEntry, toNostrEvent, UnpublishableError } from './nostr-event.js';

const entry: OutboxEntry = {
  bridgeKey: 'orders:1/7',
  streamId: 'orders:1',
  seq: 7n,
  kind: 1,
  payload: new TextEncoder().encode('{"total":42}'),
  createdAtMicros: 1_764_500_000_123_456n,
};

describe('toNostrEvent', () => {
  it('signs a valid NIP-01 event whose id depends only on the row, so a redelivery is the same event', async () => {
    const key = generateSecretKey();
    const sign = await createSigner(key);
    const a = toNostrEvent(entry, sign);
    const b = toNostrEvent(entry, sign);
    // Checked by nostr-tools' pure-JS verifier on a plain copy (the signed object carries a
    // "verified" mark the verifier would trust), as a relay checks what it receives.
    const plain = (e: object) => JSON.parse(JSON.stringify(e));
    expect(verifyEvent(plain(a))).toBe(true);
    expect(verifyEvent(plain(b))).toBe(true);
    expect(verifyEvent({ ...plain(a), content: 'tampered' })).toBe(false);
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
    expect(a.sig).not.toBe(b.sig); // BIP-340 signing is randomised; relays key on the id
    expect(toNostrEvent({ ...entry, bridgeKey: 'orders:1/8' }, sign).id).not.toBe(a.id);
  });

  it('refuses a payload that is not UTF-8 text with a typed error', async () => {
    const sign = await createSigner(generateSecretKey());
    expect(() => toNostrEvent({ ...entry, payload: new Uint8Array([0xff, 0xfe]) }, sign)).toThrow(
      UnpublishableError,
    );
  });
});
