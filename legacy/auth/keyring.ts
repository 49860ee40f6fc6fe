/**
 * The HS256 keyring (fact sheet §11.2): kid → secret. Rotation keeps the current and previous kids;
 * the first entry signs. Read from `LEGACY_LANE_HS256_KEYS` (`kid=secret,kid=secret`) or a file named
 * by `LEGACY_LANE_HS256_KEYS_FILE` (the same format, commas or newlines), never from a command line.
 */
import { readFileSync } from 'node:fs';

export interface Keyring {
  /** The kid new tokens are signed with. */
  readonly signingKid: string;
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

/** HS256 secrets shorter than the digest weaken the MAC; refuse them at start. */
const MIN_SECRET_BYTES = 32;

export class KeyringError extends Error {}

export function parseKeyring(text: string, source: string): Keyring {
  const keys = new Map<string, Uint8Array>();
  let signingKid: string | undefined;
  for (const raw of text.split(/[,\n]/)) {
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) continue;
    const eq = entry.indexOf('=');
    const kid = eq > 0 ? entry.slice(0, eq).trim() : '';
    const secret = eq > 0 ? entry.slice(eq + 1).trim() : '';
    if (kid === '' || secret === '') {
      throw new KeyringError(`${source}: each entry is kid=secret (entry ${keys.size + 1} is not)`);
    }
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
      throw new KeyringError(
        `${source}: the secret of kid '${kid}' is shorter than ${MIN_SECRET_BYTES} bytes`,
      );
    }
    if (keys.has(kid)) throw new KeyringError(`${source}: kid '${kid}' appears twice`);
    keys.set(kid, new TextEncoder().encode(secret));
    signingKid ??= kid;
  }
  if (signingKid === undefined) throw new KeyringError(`${source}: no keys`);
  return { signingKid, keys };
}

/** The keyring from the environment, or undefined when neither variable is set. */
export function keyringFromEnv(env: NodeJS.ProcessEnv = process.env): Keyring | undefined {
  const inline = env.LEGACY_LANE_HS256_KEYS?.trim();
  const file = env.LEGACY_LANE_HS256_KEYS_FILE?.trim();
  if (inline && file) {
    throw new KeyringError('set LEGACY_LANE_HS256_KEYS or LEGACY_LANE_HS256_KEYS_FILE, not both');
  }
  if (inline) return parseKeyring(inline, 'LEGACY_LANE_HS256_KEYS');
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new KeyringError(`LEGACY_LANE_HS256_KEYS_FILE: cannot read ${file}: ${(e as Error).message}`);
    }
    return parseKeyring(text, `LEGACY_LANE_HS256_KEYS_FILE (${file})`);
  }
  return undefined;
}
