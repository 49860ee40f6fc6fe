import { describe, expect, it } from 'vitest';
import type { Principal } from './principal.js';
import { VerifiedTokens } from './verified-tokens.js';

const T0 = 1_800_000_000_000;

function principal(subject: string): Principal {
  return {
    issuer: 'https://idp.test',
    subject,
    roles: new Set(['publisher']),
    streams: [],
    topics: [],
    deviceId: '',
  };
}

function clocked(maxEntries = 3, ttlMs = 60_000) {
  let t = T0;
  const tokens = new VerifiedTokens({ maxEntries, ttlMs, now: () => t });
  return { tokens, at: (ms: number) => (t = T0 + ms) };
}

/** `exp` (seconds) `s` seconds after T0. */
const expIn = (s: number) => T0 / 1000 + s;

describe('verified tokens kept for reuse', () => {
  it('keeps at most maxEntries; the least recently used goes first', () => {
    const { tokens } = clocked(3);
    for (const t of ['a', 'b', 'c']) tokens.put(t, principal(t), expIn(3600), 0);
    expect(tokens.get('a')?.subject).toBe('a'); // a is now the most recently used
    tokens.put('d', principal('d'), expIn(3600), 0);
    expect(tokens.get('b'), 'the least recently used was dropped').toBeUndefined();
    expect(['a', 'c', 'd'].map((t) => tokens.get(t)?.subject)).toEqual(['a', 'c', 'd']);
    // Storing a token again refreshes it: now a is the oldest.
    tokens.put('c', principal('c'), expIn(3600), 0);
    tokens.put('d', principal('d'), expIn(3600), 0);
    tokens.put('e', principal('e'), expIn(3600), 0);
    expect(tokens.get('a')).toBeUndefined();
    expect(['c', 'd', 'e'].map((t) => tokens.get(t)?.subject)).toEqual(['c', 'd', 'e']);
  });

  it('holds a token until its exp plus the skew, not a millisecond longer', () => {
    const { tokens, at } = clocked();
    tokens.put('short', principal('short'), expIn(10), 5);
    at(14_999);
    expect(tokens.get('short')?.subject).toBe('short');
    at(15_000); // exp + skew: the verifier refuses it from here on
    expect(tokens.get('short')).toBeUndefined();
  });

  it('holds even a long-lived token at most ttlMs after it was verified', () => {
    const { tokens, at } = clocked(3, 60_000);
    tokens.put('long', principal('long'), expIn(3600), 30);
    at(59_999);
    expect(tokens.get('long')?.subject).toBe('long');
    at(60_000);
    expect(tokens.get('long')).toBeUndefined();
  });

  it('does not keep a token already past its exp plus the skew', () => {
    const { tokens } = clocked();
    tokens.put('stale', principal('stale'), expIn(-31), 30);
    tokens.put('at-edge', principal('at-edge'), expIn(-30), 30);
    expect(tokens.get('stale')).toBeUndefined();
    expect(tokens.get('at-edge')).toBeUndefined();
  });
});
