/**
 * An outbox row as a signed NIP-01 event. Everything the event id hashes — author, `created_at`,
 * kind, tags, content — comes from the row, so publishing the same row again (after a crash, to a
 * relay that came back) yields the same id and relays keep one copy. Only the signature differs
 * between signings (BIP-340 adds fresh randomness), which relays don't compare.
 */
import type { EventTemplate, VerifiedEvent } from 'nostr-tools/core';
import { finalizeEvent, setNostrWasm } from 'nostr-tools/wasm';
import { initNostrWasm } from 'nostr-wasm';

export interface OutboxEntry {
  readonly bridgeKey: string;
  readonly streamId: string;
  readonly seq: bigint;
  readonly kind: number;
  readonly payload: Uint8Array;
  readonly createdAtMicros: bigint;
}

export class UnpublishableError extends Error {
  override readonly name = 'UnpublishableError';
}

/** Signs event templates with one key. */
export type Signer = (template: EventTemplate) => VerifiedEvent;

let wasm: Promise<void> | undefined;

/**
 * A signer for `secretKey` through nostr-tools' WebAssembly secp256k1 (nostr-wasm, shipped with
 * nostr-tools): several times faster than its pure-JS signer, which matters because signing runs on
 * the service's event loop.
 */
export async function createSigner(secretKey: Uint8Array): Promise<Signer> {
  wasm ??= initNostrWasm().then(setNostrWasm);
  await wasm;
  return (template) => finalizeEvent(template, secretKey);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The unsigned event for an outbox entry; throws UnpublishableError when the row can't be one. */
export function toTemplate(entry: OutboxEntry): EventTemplate {
  let content: string;
  try {
    content = utf8.decode(entry.payload);
  } catch {
    throw new UnpublishableError('payload is not UTF-8 text (Nostr content is a string)');
  }
  return {
    kind: entry.kind,
    created_at: Number(entry.createdAtMicros / 1_000_000n),
    tags: [
      // `d` makes the key queryable on relays (and the event replaceable by key for kinds 30000-39999).
      ['d', entry.bridgeKey],
      ['stream', entry.streamId, entry.seq.toString()],
    ],
    content,
  };
}

/** The signed event for an outbox entry; throws UnpublishableError when the row can't be one. */
export function toNostrEvent(entry: OutboxEntry, sign: Signer): VerifiedEvent {
  return sign(toTemplate(entry));
}
