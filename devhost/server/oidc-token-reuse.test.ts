/**
 * devhost reuses a third-party (OIDC) token's verification only while the issuer key set it was
 * verified with is the one in use: once the set is fetched again without the token's key (the issuer
 * retired it), the next connection with that token is refused, exactly as without the cache.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenVerifier } from './credentials.js';
import { OidcValidator } from './oidc.js';
import { TokenAuthority } from './tokens.js';
import { VerifiedTokenCache } from './verified-tokens.js';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/** An issuer serving its openid-configuration and a JWKS the test adds keys to and retires keys from. */
let server: Server;
let url = '';
let jwks: JWK[] = [];
const keys = new Map<string, PrivateKey>();

async function addKey(kid: string): Promise<void> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  keys.set(kid, pair.privateKey);
  jwks.push({ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' });
}

const sign = (kid: string, sub: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(url)
    .setSubject(sub)
    .setAudience('spacetime-sync')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(keys.get(kid) as PrivateKey);

beforeAll(async () => {
  server = createServer((req, res) => {
    const body =
      req.url === '/.well-known/openid-configuration'
        ? { issuer: url, jwks_uri: `${url}/jwks.json` }
        : req.url === '/jwks.json'
          ? { keys: jwks }
          : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await addKey('k1');
});
afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
});

describe('verified OIDC tokens in devhost', () => {
  it('are reused while their key set is current, and refused once a refetched set retired their key', async () => {
    const cache = new VerifiedTokenCache({ maxEntries: 16, ttlMs: 600_000 });
    // The key set is used for a minute; an unknown key id fetches it again after a 5 s cooldown.
    const oidc = new OidcValidator(new Set([url]), { cacheMaxAgeMs: 60_000 });
    const verify = tokenVerifier(new TokenAuthority(), oidc, cache);
    const old = await sign('k1', 'user-1');
    await verify(old); // fetches the key set: not kept, the set was not known before it
    const kept = await verify(old);
    expect(await verify(old)).toBe(kept);

    // Rotation: a new key signs, the old one is retired.
    await addKey('k2');
    jwks = jwks.filter((k) => k.kid !== 'k1');
    const fresh = await sign('k2', 'user-2');
    // The new key is found once the set is fetched again (after the cooldown).
    await expect
      .poll(
        () =>
          verify(fresh).then(
            () => 'ok',
            (e: Error) => e.message,
          ),
        { timeout: 30_000, interval: 250 },
      )
      .toBe('ok');
    // From that fetch on, the old token's cached verification no longer counts.
    await expect(verify(old)).rejects.toThrow(/Specified key ID not found/);
    await expect(verify(old)).rejects.toThrow(/Specified key ID not found/);
    expect(cache.get(old)).toBeUndefined();
  }, 60_000);
});
