import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsecEncode } from 'nostr-tools/nip19';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { loadBridgeConfig, parseRelays } from './bridge-config.js';

function keyFile(content: string, mode = 0o600): string {
  const path = join(mkdtempSync(join(tmpdir(), 'bridge-config-')), 'key');
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

describe('bridge configuration', () => {
  it('is off without relays', () => {
    expect(loadBridgeConfig({})).toBeUndefined();
  });

  it('reads labelled and bare relay URLs; labels come from the configuration', () => {
    expect(parseRelays('main=wss://relay.example/path, ws://127.0.0.1:7000')).toEqual([
      { label: 'main', url: 'wss://relay.example/path' },
      { label: '127.0.0.1:7000', url: 'ws://127.0.0.1:7000/' },
    ]);
  });

  it.each([
    ['http://relay.example', /ws:\/\/ or wss:\/\//],
    ['a=wss://x, a=wss://y', /used twice/],
    ['wss://user:pw@relay.example', /credentials/],
    ['bad label=wss://x', /label/],
    ['not a url', /not a URL/],
  ])('refuses %s naming the variable', (relays, why) => {
    expect(() => parseRelays(relays)).toThrow(why);
    expect(() => parseRelays(relays)).toThrow(/BRIDGE_NOSTR_RELAYS/);
  });

  it('takes the signing key from a private file, hex or nsec, and never echoes a bad one', () => {
    const secret = generateSecretKey();
    const hex = Buffer.from(secret).toString('hex');
    const fromHex = loadBridgeConfig({
      BRIDGE_NOSTR_RELAYS: 'wss://r',
      BRIDGE_NOSTR_KEY_FILE: keyFile(`${hex}\n`),
    });
    expect(fromHex?.publicKey).toBe(getPublicKey(secret));
    expect(fromHex).toMatchObject({ target: 'nostr', maxInFlight: 100, publishTimeoutMs: 10_000 });
    const fromNsec = loadBridgeConfig({
      BRIDGE_NOSTR_RELAYS: 'wss://r',
      BRIDGE_NOSTR_KEY_FILE: keyFile(nsecEncode(secret)),
    });
    expect(fromNsec?.publicKey).toBe(getPublicKey(secret));
    expect(() => loadBridgeConfig({ BRIDGE_NOSTR_RELAYS: 'wss://r' })).toThrow(
      /BRIDGE_NOSTR_KEY_FILE: required/,
    );
    expect(() =>
      loadBridgeConfig({ BRIDGE_NOSTR_RELAYS: 'wss://r', BRIDGE_NOSTR_KEY_FILE: keyFile(hex, 0o644) }),
    ).toThrow(/readable by others/);
    const garbage = 'secret-looking-garbage';
    expect(() =>
      loadBridgeConfig({ BRIDGE_NOSTR_RELAYS: 'wss://r', BRIDGE_NOSTR_KEY_FILE: keyFile(garbage) }),
    ).toThrow(/holds no secret key/);
    try {
      loadBridgeConfig({ BRIDGE_NOSTR_RELAYS: 'wss://r', BRIDGE_NOSTR_KEY_FILE: keyFile(garbage) });
    } catch (e) {
      expect((e as Error).message).not.toContain(garbage);
    }
  });
});
