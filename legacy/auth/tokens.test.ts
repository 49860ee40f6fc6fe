import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseKeyring } from './keyring.js';
import { mintToken, verifyToken } from './tokens.js';

const ring = parseKeyring(
  'sync-auth-v2=0123456789abcdef0123456789abcdef,sync-auth-v1=fedcba9876543210fedcba9876543210',
  'test',
);
const now = 1_780_000_000;
const topics = ['runtime.run_summaries'];

describe('sync tokens (§11.2)', () => {
  it('a minted token carries every required claim and verifies to its principal', async () => {
    const token = await mintToken(ring, {
      topics: ['runtime.run_summaries', 'runtime.notifications'],
      sessionId: 'sess_1',
      nowSeconds: now,
    });
    const r = await verifyToken(token, ring, undefined, now);
    expect(r).toEqual({
      ok: true,
      principal: {
        sub: 'user:local',
        sessionId: 'sess_1',
        deviceId: 'device_local',
        orgId: 'org_local',
        scopes: ['runtime.run_summaries', 'runtime.notifications'],
      },
    });
  });

  it('rotation: a token signed with the previous kid still verifies; the first kid signs new ones', async () => {
    const old = await mintToken(ring, { topics, kid: 'sync-auth-v1', nowSeconds: now });
    expect((await verifyToken(old, ring, undefined, now)).ok).toBe(true);
    const fresh = await mintToken(ring, { topics, nowSeconds: now });
    expect(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString())).toEqual({
      alg: 'HS256',
      typ: 'JWT',
      kid: 'sync-auth-v2',
    });
  });

  it.each([
    [
      'a forged signature (right kid, wrong secret)',
      async () =>
        mintToken(parseKeyring('sync-auth-v2=an-attacker-secret-of-32-bytes-xx', 'x'), {
          topics,
          nowSeconds: now,
        }),
      'invalid_signature',
    ],
    [
      'an unknown kid',
      async () =>
        mintToken(parseKeyring('other=0123456789abcdef0123456789abcdef', 'x'), { topics, nowSeconds: now }),
      'unknown_kid',
    ],
    [
      'no kid',
      async () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(ring.keys.get('sync-auth-v1')!),
      'missing_kid',
    ],
    [
      'alg none',
      async () =>
        `${Buffer.from('{"alg":"none","kid":"sync-auth-v1"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`,
      'unsupported_alg',
    ],
    ['garbage', async () => 'not-a-token', 'invalid_token_format'],
    ['a header that is not JSON', async () => 'abc.def.ghi', 'invalid_token_encoding'],
    ['an expired token', async () => mintToken(ring, { topics, nowSeconds: now - 301 }), 'token_expired'],
    ['exp exactly now', async () => mintToken(ring, { topics, nowSeconds: now - 300 }), 'token_expired'],
    ['iat 31 s ahead', async () => mintToken(ring, { topics, nowSeconds: now + 31 }), 'token_not_yet_valid'],
    [
      'nbf 31 s ahead',
      async () => mintToken(ring, { topics, nowSeconds: now, claims: { nbf: now + 31 } }),
      'token_not_yet_valid',
    ],
    [
      'another issuer',
      async () => mintToken(ring, { topics, nowSeconds: now, claims: { iss: 'https://elsewhere' } }),
      'claim_mismatch',
    ],
    [
      'another audience',
      async () => mintToken(ring, { topics, nowSeconds: now, claims: { aud: 'openagents-khala' } }),
      'claim_mismatch',
    ],
    [
      'another claims version',
      async () =>
        mintToken(ring, { topics, nowSeconds: now, claims: { oa_claims_version: 'oa_khala_claims_v1' } }),
      'claim_mismatch',
    ],
    ['no scopes', async () => mintToken(ring, { topics: [' ', ''], nowSeconds: now }), 'invalid_claims'],
    [
      'no jti',
      async () => mintToken(ring, { topics, nowSeconds: now, claims: { jti: '' } }),
      'invalid_claims',
    ],
    [
      'a string iat',
      async () => mintToken(ring, { topics, nowSeconds: now, claims: { iat: String(now) } }),
      'invalid_claims',
    ],
    [
      'no oa_session_id',
      async () => mintToken(ring, { topics, nowSeconds: now, claims: { oa_session_id: undefined } }),
      'invalid_claims',
    ],
    [
      'no oa_device_id',
      async () => mintToken(ring, { topics, nowSeconds: now, claims: { oa_device_id: '' } }),
      'invalid_claims',
    ],
  ])('refuses %s', async (_name, make, reason) => {
    const r = await verifyToken(await make(), ring, undefined, now);
    expect(r.ok ? 'accepted' : r.reason).toBe(reason);
  });

  it('accepts iat 30 s ahead (the skew), an aud list containing the audience, and comma-separated scopes', async () => {
    const token = await mintToken(ring, {
      topics,
      nowSeconds: now + 30,
      claims: {
        aud: ['other', 'openagents-sync'],
        oa_sync_scopes: ' runtime.run_summaries, ,runtime.notifications,runtime.run_summaries',
      },
    });
    const r = await verifyToken(token, ring, undefined, now);
    expect(r.ok && r.principal.scopes).toEqual(['runtime.run_summaries', 'runtime.notifications']);
  });

  it('the keyring refuses short secrets, duplicate kids and entries without kid=secret', () => {
    expect(() => parseKeyring('k=short', 'X')).toThrow(/shorter than 32 bytes/);
    expect(() =>
      parseKeyring('k=0123456789abcdef0123456789abcdef,k=0123456789abcdef0123456789abcdef', 'X'),
    ).toThrow(/twice/);
    expect(() => parseKeyring('0123456789abcdef0123456789abcdef', 'X')).toThrow(/kid=secret/);
    expect(() => parseKeyring(' , ', 'X')).toThrow(/no keys/);
  });
});
