/**
 * The machine-local token issuer behind the zero-setup default: `npm start` on loopback creates an
 * ES256 key pair once (a 0600 PKCS#8 file in the state dir, written atomically) and accepts tokens
 * it signs; the CLI on the same machine — the same user, who can read the file — mints short-lived
 * tokens with it. Whoever can read the key file can do anything the service allows, exactly like the
 * owner token next to it.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, SignJWT } from 'jose';
import { createSecretFileSync } from '../../shared/secret-file.js';
import type { IssuerKeys } from './issuer-keys.js';
import type { Role } from './principal.js';

/** The `iss` of locally minted tokens. */
export const LOCAL_ISSUER = 'spacetime-sync-local';
export const DEFAULT_AUDIENCE = 'spacetime-sync';

/** The key in `file`, created first when there is none. */
export function ensureLocalIssuerKey(file: string): KeyObject {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    return readLocalIssuerKey(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Two services starting at once: the second keeps the first one's key.
  createSecretFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  return readLocalIssuerKey(file);
}

export function readLocalIssuerKey(file: string): KeyObject {
  return createPrivateKey(readFileSync(file, 'utf8'));
}

async function publicJwk(key: KeyObject) {
  const jwk = await exportJWK(createPublicKey(key));
  return { ...jwk, alg: 'ES256', use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

export async function localIssuerKeys(key: KeyObject): Promise<IssuerKeys> {
  return { issuer: LOCAL_ISSUER, keys: createLocalJWKSet({ keys: [await publicJwk(key)] }) };
}

export interface TokenClaims {
  readonly roles: readonly Role[];
  readonly streams?: readonly string[];
  readonly topics?: readonly string[];
  readonly subject?: string;
  /** `did`: a desktop client's device id (the id RouteClient routes it by). */
  readonly deviceId?: string;
  /** Lifetime in seconds. */
  readonly ttlS: number;
  readonly audience?: string;
}

export async function mintLocalToken(key: KeyObject, c: TokenClaims): Promise<string> {
  const { kid } = await publicJwk(key);
  return new SignJWT({
    roles: [...c.roles],
    ...(c.streams?.length ? { streams: [...c.streams] } : {}),
    ...(c.topics?.length ? { topics: [...c.topics] } : {}),
    ...(c.deviceId ? { did: c.deviceId } : {}),
  })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(LOCAL_ISSUER)
    .setAudience(c.audience ?? DEFAULT_AUDIENCE)
    .setSubject(c.subject ?? `local:${process.env.USER ?? 'user'}`)
    .setIssuedAt()
    .setExpirationTime(`${c.ttlS}s`)
    .sign(key);
}
