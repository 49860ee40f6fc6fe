/**
 * Test-only: a minimal OIDC issuer over HTTP — its openid-configuration and a JWKS of its keys —
 * signing scoped client tokens the way the service's token endpoint mints them (`sid`, `uid`, `did`,
 * `streams`; `sub` = user:device:session). What devhost fetches to verify a third-party token.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export const CLIENT_AUDIENCE = 'spacetime-sync';

export interface TestIssuer {
  readonly url: string;
  /** A token of key `kid`; `key` signs instead (a forgery), `expiresIn` a past time (expired). */
  sign(
    kid: string,
    claims: Record<string, unknown>,
    options?: { expiresIn?: string | number; key?: KeyLike; audience?: string },
  ): Promise<string>;
  close(): Promise<void>;
}

/** The scoped claims of one (user, device, session). */
export const scopes = (sid: string, streams: string[], uid = 'user-1', did = 'desk-1') => ({
  sid,
  uid,
  did,
  streams,
});

export async function startIssuer(keyIds: string[]): Promise<TestIssuer> {
  const keys = new Map<string, KeyLike>();
  const jwks: JWK[] = [];
  for (const kid of keyIds) {
    const pair = await generateKeyPair('ES256', { extractable: true });
    keys.set(kid, pair.privateKey as KeyLike);
    jwks.push({ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' });
  }
  let url = '';
  const server: Server = createServer((req, res) => {
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
  return {
    url,
    sign: async (kid, claims, { expiresIn = '5m', key = keys.get(kid), audience = CLIENT_AUDIENCE } = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(url)
        .setSubject(`${String(claims['uid'])}:${String(claims['did'])}:${String(claims['sid'])}`)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(key as KeyLike),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
