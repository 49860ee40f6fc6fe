import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';
import { afterEach, describe, expect, it } from 'vitest';
import { createSigner, type OutboxEntry, toNostrEvent, toTemplate } from './nostr-event.js';
import { ThreadSigner } from './thread-signer.js';

const entry = (i: number): OutboxEntry => ({
  bridgeKey: `orders:1/${i}`,
  streamId: 'orders:1',
  seq: BigInt(i),
  kind: 1,
  payload: new TextEncoder().encode(`{"i":${i}}`),
  createdAtMicros: 1_764_000_000_000_000n + BigInt(i),
});

let signer: ThreadSigner | undefined;
afterEach(async () => {
  await signer?.close();
});

describe('ThreadSigner', () => {
  it('signs on its thread what the in-process signer signs: same ids, valid signatures, by the key', async () => {
    const key = generateSecretKey();
    signer = new ThreadSigner(key);
    const local = await createSigner(key);
    // Asked in one tick: one batch to the thread, each caller gets its own event back.
    const events = await Promise.all(
      Array.from({ length: 50 }, (_, i) => signer?.sign(toTemplate(entry(i)))),
    );
    events.forEach((e, i) => {
      expect(e?.id).toBe(toNostrEvent(entry(i), local).id);
      expect(e?.pubkey).toBe(getPublicKey(key));
      expect(verifyEvent({ ...(e as NonNullable<typeof e>) })).toBe(true);
    });
  });

  it('rejects what is asked after close', async () => {
    signer = new ThreadSigner(generateSecretKey());
    await signer.sign(toTemplate(entry(1)));
    await signer.close();
    await expect(signer.sign(toTemplate(entry(2)))).rejects.toThrow('closed');
  });
});
