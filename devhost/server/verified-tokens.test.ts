import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tokenVerifier } from './credentials.js';
import { OidcValidator } from './oidc.js';
import { AuthError, TokenAuthority, type VerifiedToken } from './tokens.js';
import { VerifiedTokenCache } from './verified-tokens.js';

const verified = (exp?: number): VerifiedToken => ({
  claims: {
    identity: 1n,
    subject: 's',
    issuer: 'i',
    audience: [],
    iat: 0,
    ...(exp === undefined ? {} : { exp }),
    extra: {},
  },
  payloadJson: '{}',
});

/** A clock the test moves (ms since the epoch). */
function clock(start = 1_000_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('VerifiedTokenCache', () => {
  it('keeps at most maxEntries tokens, dropping the least recently used', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 2, ttlMs: 60_000 });
    const [a, b, c] = [verified(), verified(), verified()];
    cache.put('a', a, 60);
    cache.put('b', b, 60);
    expect(cache.get('a')?.verified).toBe(a); // a is now the most recently used
    cache.put('c', c, 60);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.verified).toBe(a);
    expect(cache.get('c')?.verified).toBe(c);
  });

  it('forgets a token at its exp plus the leeway, and at most ttlMs after it was verified', () => {
    const t = clock();
    const cache = new VerifiedTokenCache({ maxEntries: 10, ttlMs: 60_000, now: t.now });
    const expS = t.now() / 1000 + 10;
    cache.put('short', verified(expS), 5); // usable for 15 s
    cache.put('long', verified(expS + 3600), 5); // usable for the ttl: 60 s
    cache.put('none', verified(), 5); // no exp: the ttl
    t.advance(14_999);
    expect(cache.get('short')).toBeDefined();
    t.advance(1);
    expect(cache.get('short')).toBeUndefined();
    t.advance(60_000 - 15_000 - 1);
    expect(cache.get('long')).toBeDefined();
    expect(cache.get('none')).toBeDefined();
    t.advance(1);
    expect(cache.get('long')).toBeUndefined();
    expect(cache.get('none')).toBeUndefined();
  });

  it('does not keep a token that is already past its exp and leeway', () => {
    const t = clock();
    const cache = new VerifiedTokenCache({ maxEntries: 10, ttlMs: 60_000, now: t.now });
    cache.put('old', verified(t.now() / 1000 - 61), 60);
    expect(cache.size).toBe(0);
  });

  it('keys entries by the token: another token is a miss', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, ttlMs: 60_000 });
    cache.put('token-1', verified(), 60);
    expect(cache.get('token-2')).toBeUndefined();
  });
});

describe('tokenVerifier with a cache', () => {
  const authority = new TokenAuthority();
  const oidc = new OidcValidator(new Set());

  it('answers a token verified before from the cache, while it holds', async () => {
    const t = clock(Date.now());
    const cache = new VerifiedTokenCache({ maxEntries: 10, ttlMs: 60_000, now: t.now });
    const verify = tokenVerifier(authority, oidc, cache);
    const { token } = authority.resign(authority.mintAnonymous().claims, 3600);
    const first = await verify(token);
    expect(await verify(token)).toBe(first);
    t.advance(60_000);
    const again = await verify(token);
    expect(again).not.toBe(first);
    expect(again.claims.identity).toBe(first.claims.identity);
  });

  it('never keeps a refusal: a forged token is refused every time and nothing is cached', async () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, ttlMs: 60_000 });
    const verify = tokenVerifier(authority, oidc, cache);
    const { token } = authority.mintAnonymous();
    const [header, payload] = token.split('.') as [string, string];
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), {
      key: forger,
      dsaEncoding: 'ieee-p1363',
    }).toString('base64url')}`;
    for (let i = 0; i < 2; i++) await expect(verify(forged)).rejects.toThrow(AuthError);
    expect(cache.size).toBe(0);
    // The genuine token is unaffected, and is what gets cached.
    await verify(token);
    expect(cache.size).toBe(1);
  });

  it('stops answering a token from the cache once its exp and leeway passed, whatever the ttl', async () => {
    const t = clock(Date.now());
    const cache = new VerifiedTokenCache({ maxEntries: 10, ttlMs: 3_600_000, now: t.now });
    const verify = tokenVerifier(authority, oidc, cache);
    // exp in 1 s: the cache may use it until exp + 60 s of leeway, as the verifier accepts it.
    const { token } = authority.resign(authority.mintAnonymous().claims, 1);
    await verify(token);
    t.advance(61_000 + 1_000);
    expect(cache.get(token)).toBeUndefined();
  });
});
