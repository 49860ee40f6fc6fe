import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { identityFromClaims, identityToHex } from './identity.js';
import { AuthError, TokenAuthority } from './tokens.js';

const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
}

function expectRejected(fn: () => unknown, status: number, message: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AuthError);
    expect((e as AuthError).status).toBe(status);
    expect((e as AuthError).message).toMatch(message);
    return;
  }
  throw new Error('expected an AuthError');
}

describe('TokenAuthority', () => {
  const authority = new TokenAuthority();

  it('mints anonymous ES256 tokens with SpacetimeDB claims and the derived identity', () => {
    const { claims, token } = authority.mintAnonymous();
    const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString('utf8'));
    expect(header).toEqual({ typ: 'JWT', alg: 'ES256' });
    const payload = payloadOf(token);
    expect(Object.keys(payload)).toEqual(['hex_identity', 'sub', 'iss', 'aud', 'iat', 'exp']);
    expect(payload).toMatchObject({ iss: 'localhost', aud: ['spacetimedb'], exp: null });
    expect(payload['sub']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(payload['hex_identity']).toBe(
      identityToHex(identityFromClaims('localhost', String(payload['sub']))),
    );
    const verified = authority.verify(token);
    expect(verified.claims.identity).toBe(claims.identity);
    expect(JSON.parse(verified.payloadJson)).toEqual(payload);
  });

  it('re-signs the same claims with a short expiry', () => {
    const { claims } = authority.mintAnonymous();
    const short = authority.resign({ ...claims, extra: { custom: 'kept' } }, 60);
    const payload = payloadOf(short.token);
    expect(payload['sub']).toBe(claims.subject);
    expect(payload['custom']).toBe('kept');
    expect(Number(payload['exp']) - Number(payload['iat'])).toBe(60);
    expect(authority.verify(short.token).claims.identity).toBe(claims.identity);
  });

  it('rejects tokens signed by another key, malformed ones and expired ones with 401', () => {
    const other = new TokenAuthority();
    expectRejected(
      () => authority.verify(other.mintAnonymous().token),
      401,
      'Invalid token: InvalidSignature',
    );
    expectRejected(() => authority.verify('not-a-token'), 401, 'Invalid token: InvalidToken');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const expired = new TokenAuthority(privateKey);
    const old = expired.resign(expired.mintAnonymous().claims, -120).token;
    expectRejected(() => expired.verify(old), 401, 'Invalid token: ExpiredSignature');
  });

  it('rejects a token whose hex_identity does not match its issuer and subject', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const local = new TokenAuthority(privateKey);
    const input = `${part({ typ: 'JWT', alg: 'ES256' })}.${part({
      hex_identity: identityToHex(identityFromClaims('localhost', 'mallory')),
      sub: 'alice',
      iss: 'localhost',
      aud: [],
      iat: 1,
    })}`;
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    expectRejected(() => local.verify(`${input}.${sig.toString('base64url')}`), 401, /^Identity mismatch/);
  });

  it('accepts foreign claims it signed itself and keeps a string audience', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const local = new TokenAuthority(privateKey);
    const input = `${part({ typ: 'JWT', alg: 'ES256' })}.${part({ sub: 'alice', iss: 'https://idp.example', aud: 'app', iat: 1 })}`;
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const { claims } = local.verify(`${input}.${sig.toString('base64url')}`);
    expect(claims.identity).toBe(identityFromClaims('https://idp.example', 'alice'));
    expect(claims.audience).toEqual(['app']);
  });

  it('refuses a signing key that is not P-256', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    expect(() => new TokenAuthority(privateKey)).toThrow(/P-256/);
  });
});
