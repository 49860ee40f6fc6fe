/**
 * The verification keys of one configured issuer: fetched from its JWKS URL (jose caches them and
 * refetches when a token names a key id it has not seen, so an issuer's rotation needs no restart),
 * or read once at start from public-key files — PEM (`PUBLIC KEY` or a `CERTIFICATE`), a JWK or a
 * JWKS in JSON. Several files may be active at once: that is how static keys are rotated.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';

export type IssuerConfig =
  | { readonly issuer: string; readonly jwksUrl: string }
  | { readonly issuer: string; readonly keyFiles: readonly string[] };

export interface IssuerKeys {
  readonly issuer: string;
  readonly keys: JWTVerifyGetKey;
}

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

/** The public JWKs of one file. */
async function jwksOfFile(file: string): Promise<JWK[]> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new KeyFileError(`cannot read key file ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  try {
    if (text.startsWith('{')) {
      const json = JSON.parse(text) as JWK | JSONWebKeySet;
      const keys = 'keys' in json ? json.keys : [json];
      // Only public members: a private JWK given by mistake is reduced to its public half.
      return Promise.all(
        keys.map(async (k) => ({
          ...(await exportJWK(createPublicKey({ key: k as never, format: 'jwk' }))),
          ...(k.kid ? { kid: k.kid } : {}),
          ...(k.alg ? { alg: k.alg } : {}),
        })),
      );
    }
    const key = text.includes('BEGIN CERTIFICATE')
      ? new X509Certificate(text).publicKey
      : createPublicKey(text);
    return [await exportJWK(key)];
  } catch (e) {
    throw new KeyFileError(
      `${file} holds no public key (PEM, certificate, JWK or JWKS): ${(e as Error).message}`,
    );
  }
}

/** `jwksCooldownMs`: the least time between two fetches of a JWKS (an unknown key id triggers one). */
export async function loadIssuerKeys(
  config: IssuerConfig,
  { jwksCooldownMs = 30_000 }: { jwksCooldownMs?: number } = {},
): Promise<IssuerKeys> {
  if ('jwksUrl' in config)
    return {
      issuer: config.issuer,
      keys: createRemoteJWKSet(new URL(config.jwksUrl), {
        timeoutDuration: 5_000,
        cooldownDuration: jwksCooldownMs,
        cacheMaxAge: 10 * 60_000,
      }),
    };
  const keys: JWK[] = [];
  for (const file of config.keyFiles) {
    for (const jwk of await jwksOfFile(file)) {
      // A key without an id gets its RFC 7638 thumbprint: tokens that name it find it directly.
      keys.push({ ...jwk, kid: jwk.kid ?? (await calculateJwkThumbprint(jwk)) });
    }
  }
  return { issuer: config.issuer, keys: createLocalJWKSet({ keys }) };
}
