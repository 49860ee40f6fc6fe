/**
 * The authenticator against real keys and a real JWKS endpoint: ES256 from PEM files, RS256 from a
 * JWKS URL, two active keys at once (rotation) for both, the clock-skew bound on `exp` and `nbf`, and
 * tokens that must never pass (no `exp`, an HMAC token keyed with the public key, another issuer).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Authenticator, AuthFailure } from './authenticator.js';
import { type IssuerKeys, loadIssuerKeys } from './issuer-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'authn-'));
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const now = () => Math.floor(Date.now() / 1000);

function pemFile(name: string, key: KeyObject): string {
  const file = join(dir, name);
  writeFileSync(file, key.export({ type: 'spki', format: 'pem' }) as string);
  return file;
}

interface Claims {
  iss?: string;
  aud?: string;
  exp?: number | null;
  nbf?: number;
  kid?: string;
  alg?: string;
}

function sign(key: KeyObject | Uint8Array, c: Claims = {}): Promise<string> {
  const jwt = new SignJWT({ roles: ['operator'] })
    .setProtectedHeader({ alg: c.alg ?? 'ES256', ...(c.kid ? { kid: c.kid } : {}) })
    .setIssuer(c.iss ?? 'https://idp.test')
    .setAudience(c.aud ?? 'spacetime-sync')
    .setSubject('svc');
  if (c.exp !== null) jwt.setExpirationTime(c.exp ?? now() + 300);
  if (c.nbf !== undefined) jwt.setNotBefore(c.nbf);
  return jwt.sign(key);
}

async function outcome(a: Authenticator, token: string): Promise<string> {
  try {
    const p = await a.authenticate(`Bearer ${token}`);
    return `ok ${[...p.roles].join(',')}`;
  } catch (e) {
    if (e instanceof AuthFailure) return `refused: ${e.publicMessage}`;
    throw e;
  }
}

const staticKeys = { current: ec(), next: ec(), retired: ec() };
let jwks: { keys: unknown[] } = { keys: [] };
let jwksServer: Server;
let jwksUrl: string;
const rsaKeys = { first: rsa(), second: rsa() };

beforeAll(async () => {
  jwksServer = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)),
  );
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
});
afterAll(() => new Promise<void>((r) => jwksServer.close(() => r())));

async function staticAuthenticator(clockSkewS = 30): Promise<Authenticator> {
  const keys = await loadIssuerKeys({
    issuer: 'https://idp.test',
    keyFiles: [
      pemFile('current.pem', staticKeys.current.publicKey),
      pemFile('next.pem', staticKeys.next.publicKey),
    ],
  });
  return new Authenticator({ issuers: [keys], audience: 'spacetime-sync', clockSkewS });
}

describe('static public keys from files (ES256)', () => {
  it('accepts tokens of either active key during a rotation, with or without a key id, and refuses a retired one', async () => {
    const a = await staticAuthenticator();
    expect(await outcome(a, await sign(staticKeys.current.privateKey))).toBe('ok operator');
    expect(await outcome(a, await sign(staticKeys.next.privateKey))).toBe('ok operator');
    expect(await outcome(a, await sign(staticKeys.retired.privateKey))).toBe(
      'refused: the bearer token was not accepted',
    );
    // A key id that is not one of the files' is not a way around the check.
    expect(await outcome(a, await sign(staticKeys.retired.privateKey, { kid: 'current' }))).toMatch(
      /^refused/,
    );
  });

  it('bounds clock skew on exp and nbf', async () => {
    const a = await staticAuthenticator(30);
    const k = staticKeys.current.privateKey;
    expect(await outcome(a, await sign(k, { exp: now() - 10 }))).toBe('ok operator');
    expect(await outcome(a, await sign(k, { exp: now() - 60 }))).toBe(
      'refused: the bearer token has expired',
    );
    expect(await outcome(a, await sign(k, { nbf: now() + 10 }))).toBe('ok operator');
    expect(await outcome(a, await sign(k, { nbf: now() + 60 }))).toBe(
      'refused: the bearer token was not accepted',
    );
  });

  it('refuses a token without exp, for another audience, from another issuer, or HMAC-signed with the public key', async () => {
    const a = await staticAuthenticator();
    const k = staticKeys.current.privateKey;
    for (const token of [
      await sign(k, { exp: null }),
      await sign(k, { aud: 'other-service' }),
      await sign(k, { iss: 'https://elsewhere.test' }),
      // Algorithm confusion: the verifier's public key bytes used as an HMAC secret.
      await sign(
        new TextEncoder().encode(
          staticKeys.current.publicKey.export({ type: 'spki', format: 'pem' }) as string,
        ),
        {
          alg: 'HS256',
        },
      ),
    ])
      expect(await outcome(a, token)).toBe('refused: the bearer token was not accepted');
  });

  it('says what is missing when there is no bearer token at all', async () => {
    const a = await staticAuthenticator();
    await expect(a.authenticate(undefined)).rejects.toThrow(/no bearer token/);
    await expect(a.authenticate('Basic dXNlcjpwYXNz')).rejects.toThrow(/not a bearer token/);
  });
});

describe('a JWKS URL (RS256)', () => {
  it('accepts the published key, and a key added to the set later without a restart', async () => {
    const first = { ...(await exportJWK(rsaKeys.first.publicKey)), kid: 'rsa-1', alg: 'RS256' };
    const second = { ...(await exportJWK(rsaKeys.second.publicKey)), kid: 'rsa-2', alg: 'RS256' };
    jwks = { keys: [first] };
    const keys = await loadIssuerKeys({ issuer: 'https://idp.test', jwksUrl }, { jwksCooldownMs: 100 });
    const a = new Authenticator({ issuers: [keys], audience: 'spacetime-sync', clockSkewS: 30 });
    const rs = (key: KeyObject, kid: string) => sign(key, { alg: 'RS256', kid });
    expect(await outcome(a, await rs(rsaKeys.first.privateKey, 'rsa-1'))).toBe('ok operator');
    expect(await outcome(a, await rs(rsaKeys.second.privateKey, 'rsa-2'))).toMatch(/^refused/);
    // The issuer rotates: both keys are published; tokens of either pass.
    jwks = { keys: [first, second] };
    await expect
      .poll(async () => outcome(a, await rs(rsaKeys.second.privateKey, 'rsa-2')), {
        timeout: 60_000,
        interval: 1_000,
      })
      .toBe('ok operator');
    expect(await outcome(a, await rs(rsaKeys.first.privateKey, 'rsa-1'))).toBe('ok operator');
  }, 60_000);
});

describe("the service's own client-token issuer (trust)", () => {
  it('accepts its tokens for its own audience only, keeps only the roles it mints, and never overrides a configured issuer', async () => {
    const a = await staticAuthenticator();
    const own = ec();
    const issuer = 'http://127.0.0.1:8080';
    const keys = (await loadIssuerKeys({ issuer, keyFiles: [pemFile('own.pem', own.publicKey)] })).keys;
    const token = (aud: string, roles: string[]) =>
      new SignJWT({ roles })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(issuer)
        .setAudience(aud)
        .setSubject('u:d:s')
        .setExpirationTime(now() + 300)
        .sign(own.privateKey);
    // Not trusted yet: unknown issuer.
    expect(await outcome(a, await token('spacetime-sync-client', ['client']))).toBe(
      'refused: the bearer token was not accepted',
    );
    expect(a.trust({ issuer, keys, audience: 'spacetime-sync-client', roles: ['client'] })).toBe(true);
    expect(await outcome(a, await token('spacetime-sync-client', ['client']))).toBe('ok client');
    // A role it does not mint is dropped, whatever the token says.
    expect(await outcome(a, await token('spacetime-sync-client', ['admin', 'client']))).toBe('ok client');
    // Its tokens are for the sync module's audience; the service's own audience is not theirs.
    expect(await outcome(a, await token('spacetime-sync', ['client']))).toBe(
      'refused: the bearer token was not accepted',
    );
    // A configured issuer of the same name keeps its configuration.
    expect(a.trust({ issuer: 'https://idp.test', keys, audience: 'x', roles: [] })).toBe(false);
    expect(await outcome(a, await sign(staticKeys.current.privateKey))).toBe('ok operator');
  });
});

describe('a token verified once', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** The static issuer, counting how often a signature check asks for its key. */
  async function counting(clockSkewS = 30): Promise<{ a: Authenticator; checks: () => number }> {
    const loaded = await loadIssuerKeys({
      issuer: 'https://idp.test',
      keyFiles: [pemFile('counted.pem', staticKeys.current.publicKey)],
    });
    let n = 0;
    const keys: IssuerKeys = {
      ...loaded,
      keys: (header, token) => {
        n++;
        return loaded.keys(header, token);
      },
    };
    return {
      a: new Authenticator({ issuers: [keys], audience: 'spacetime-sync', clockSkewS }),
      checks: () => n,
    };
  }

  it('is admitted again without another signature check', async () => {
    const { a, checks } = await counting();
    const token = await sign(staticKeys.current.privateKey);
    expect(await outcome(a, token)).toBe('ok operator');
    expect(await outcome(a, token)).toBe('ok operator');
    expect(await outcome(a, token)).toBe('ok operator');
    expect(checks()).toBe(1);
    // Another token is checked on its own; a refused one is never remembered.
    const forged = await sign(staticKeys.retired.privateKey);
    expect(await outcome(a, forged)).toMatch(/^refused/);
    expect(await outcome(a, forged)).toMatch(/^refused/);
    expect(checks()).toBe(3);
  });

  it('is refused once past its exp and the clock skew, and checked again after a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { a, checks } = await counting(30);
    const shortLived = await sign(staticKeys.current.privateKey, { exp: now() + 10 });
    const longLived = await sign(staticKeys.current.privateKey, { exp: now() + 3600 });
    expect(await outcome(a, shortLived)).toBe('ok operator');
    expect(await outcome(a, longLived)).toBe('ok operator');
    expect(checks()).toBe(2);
    vi.setSystemTime(Date.now() + 45_000); // past exp (10 s) + skew (30 s), within the minute
    expect(await outcome(a, shortLived)).toBe('refused: the bearer token has expired');
    expect(await outcome(a, longLived)).toBe('ok operator');
    expect(checks()).toBe(3);
    vi.setSystemTime(Date.now() + 20_000); // 65 s after it was verified
    expect(await outcome(a, longLived)).toBe('ok operator');
    expect(checks(), 'checked again after the minute').toBe(4);
  });
});
