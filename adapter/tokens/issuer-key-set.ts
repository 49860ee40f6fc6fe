/**
 * The service's own token issuer keys, in one 0600 JSON file (written atomically): a current key that
 * signs new client tokens and, after a rotation, the previous one, still published in the JWKS so the
 * tokens it signed keep verifying until it is retired. At most two keys are active at once.
 *
 * The running service re-reads the file when it changed (another inode or mtime), so `spacetime-sync
 * token-keys rotate|retire` acts without a restart; the file is the single source of truth.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { createSecretFileSync, writeSecretFileSync } from '../../shared/secret-file.js';

export interface IssuerKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  /** The public half as a JWK (kid, alg ES256, use sig): what the JWKS publishes. */
  readonly publicJwk: JWK;
  /** ISO time the key was made. */
  readonly createdAt: string;
}

export interface KeySetState {
  readonly current: IssuerKey;
  readonly previous?: IssuerKey;
}

interface StoredKey {
  readonly kid: string;
  readonly pkcs8: string;
  readonly created_at: string;
}

/** The file: `keys[0]` is current, `keys[1]` (if any) the previous key. */
interface StoredSet {
  readonly keys: readonly StoredKey[];
}

export class KeySetFileError extends Error {
  override readonly name = 'KeySetFileError';
}

async function newStoredKey(): Promise<StoredKey> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = await exportJWK(createPublicKey(privateKey));
  return {
    kid: await calculateJwkThumbprint(jwk),
    pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    created_at: new Date().toISOString(),
  };
}

async function toKey(s: StoredKey): Promise<IssuerKey> {
  const privateKey = createPrivateKey(s.pkcs8);
  const jwk = await exportJWK(createPublicKey(privateKey));
  return {
    kid: s.kid,
    privateKey,
    publicJwk: { ...jwk, kid: s.kid, alg: 'ES256', use: 'sig' },
    createdAt: s.created_at,
  };
}

function readStored(file: string): StoredSet {
  const text = readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeySetFileError(`${file} is not JSON (an issuer key set)`);
  }
  const keys = (parsed as StoredSet | null)?.keys;
  if (
    !Array.isArray(keys) ||
    keys.length < 1 ||
    keys.length > 2 ||
    !keys.every((k) => typeof k?.kid === 'string' && typeof k?.pkcs8 === 'string')
  )
    throw new KeySetFileError(`${file} must hold {"keys": [current, previous?]}`);
  return { keys };
}

const encode = (s: StoredSet) => `${JSON.stringify(s, null, 2)}\n`;

/** The file's stored set, created with one key when there is none. */
async function ensureStored(file: string): Promise<StoredSet> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    return readStored(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  // Two processes creating it at once: the second keeps the first one's key.
  createSecretFileSync(file, encode({ keys: [await newStoredKey()] }));
  return readStored(file);
}

async function toState(s: StoredSet): Promise<KeySetState> {
  const [current, previous] = await Promise.all(s.keys.map(toKey));
  return { current: current as IssuerKey, ...(previous ? { previous } : {}) };
}

/** The key set behind one file, re-read when the file changes. */
export class IssuerKeySet {
  private loaded: { stamp: string; state: KeySetState } | undefined;

  constructor(readonly file: string) {}

  async state(): Promise<KeySetState> {
    let st = statSync(this.file, { throwIfNoEntry: false });
    if (!st) {
      await ensureStored(this.file);
      st = statSync(this.file);
    }
    const stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (this.loaded?.stamp !== stamp) this.loaded = { stamp, state: await toState(readStored(this.file)) };
    return this.loaded.state;
  }

  /** The public keys tokens may be verified with: current and previous. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const s = await this.state();
    return { keys: [s.current.publicJwk, ...(s.previous ? [s.previous.publicJwk] : [])] };
  }
}

export interface KeySetSummary {
  readonly current: { kid: string; createdAt: string };
  readonly previous?: { kid: string; createdAt: string };
  /** The kid a retirement removed, or a rotation pushed out (a previous key older than the current). */
  readonly retired?: string;
}

const summary = (s: StoredSet, retired?: string): KeySetSummary => {
  const [c, p] = s.keys as [StoredKey, StoredKey?];
  return {
    current: { kid: c.kid, createdAt: c.created_at },
    ...(p ? { previous: { kid: p.kid, createdAt: p.created_at } } : {}),
    ...(retired ? { retired } : {}),
  };
};

/** The set in `file` as it is; throws ENOENT when there is none (reading never creates one). */
export function describeKeySet(file: string): KeySetSummary {
  return summary(readStored(file));
}

/**
 * Until when tokens the previous key signed may still be valid: it stopped signing when the current
 * key was made, and no token lives longer than `maxTtlS`. Undefined when there is no previous key.
 */
export function previousKeyTokensValidUntil(s: KeySetSummary, maxTtlS: number): Date | undefined {
  if (!s.previous) return undefined;
  return new Date(Date.parse(s.current.createdAt) + maxTtlS * 1000);
}

/**
 * A new current key; the old current becomes previous (still verifying). A previous key that was
 * still there is retired by the rotation: wait at least the longest token lifetime between two
 * rotations, or the tokens it signed stop verifying early.
 */
export async function rotateKeySet(file: string): Promise<KeySetSummary> {
  const s = await ensureStored(file);
  const next: StoredSet = { keys: [await newStoredKey(), s.keys[0] as StoredKey] };
  writeSecretFileSync(file, encode(next));
  return summary(next, s.keys[1]?.kid);
}

/** Removes the previous key: tokens it signed are refused from now on. Undefined when there is none. */
export async function retirePreviousKey(file: string): Promise<KeySetSummary | undefined> {
  const s = await ensureStored(file);
  const previous = s.keys[1];
  if (!previous) return undefined;
  const next: StoredSet = { keys: [s.keys[0] as StoredKey] };
  writeSecretFileSync(file, encode(next));
  return summary(next, previous.kid);
}
