/**
 * The bridge worker's configuration, read from the environment with the rest of the service's and
 * validated up front. The signing key comes only from a file (`BRIDGE_NOSTR_KEY_FILE`): a key in an
 * environment variable or on a command line ends up in process listings and shell history.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as nip19 from 'nostr-tools/nip19';
import type * as pure from 'nostr-tools/pure';

// nostr-tools and its @noble curves (≈8 MiB) load only when relays are configured: a service without
// the bridge never needs them. loadConfig is synchronous (a bad key is a configuration error before
// anything starts), so they are required (nostr-tools ships CommonJS too), not imported.
const requireNostr = createRequire(import.meta.url);
const decodeNip19 = (text: string): nip19.DecodedResult =>
  (requireNostr('nostr-tools/nip19') as typeof nip19).decode(text);
const getPublicKey: typeof pure.getPublicKey = (secretKey) =>
  (requireNostr('nostr-tools/pure') as typeof pure).getPublicKey(secretKey);

export interface RelayConfig {
  /** Metric label and delivery record name: from configuration only, never from what a relay says. */
  readonly label: string;
  readonly url: string;
}

export interface BridgeConfig {
  readonly relays: readonly RelayConfig[];
  /** 32-byte secp256k1 secret key the mirrored events are signed with. */
  readonly secretKey: Uint8Array;
  /** Hex public key of `secretKey`, for logs and operators. */
  readonly publicKey: string;
  /** Outbox target this worker drains. */
  readonly target: string;
  /** SpacetimeDB token of the worker's own identity; absent: the service's (or, embedded, a fresh one). */
  readonly tokenFile?: string;
  /** Events awaiting a relay's `OK` at once, per relay. */
  readonly maxInFlight: number;
  /** A relay that has not answered an event within this long is treated as unreachable. */
  readonly publishTimeoutMs: number;
}

export class BridgeConfigError extends Error {
  override readonly name = 'BridgeConfigError';
  constructor(
    readonly variable: string,
    readonly detail: string,
  ) {
    super(`${variable}: ${detail}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LABEL = /^[A-Za-z0-9._:-]{1,64}$/;

/** `name=ws://host:port` entries (or bare URLs, labelled by host:port), comma-separated. */
export function parseRelays(raw: string): RelayConfig[] {
  const relays: RelayConfig[] = [];
  for (const entry of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    const urlText = eq >= 0 ? entry.slice(eq + 1).trim() : entry;
    let url: URL;
    try {
      url = new URL(urlText);
    } catch {
      throw new BridgeConfigError(
        'BRIDGE_NOSTR_RELAYS',
        `'${urlText}' is not a URL (example: main=wss://relay.example)`,
      );
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new BridgeConfigError('BRIDGE_NOSTR_RELAYS', `'${urlText}' must be a ws:// or wss:// URL`);
    }
    if (url.username || url.password) {
      throw new BridgeConfigError(
        'BRIDGE_NOSTR_RELAYS',
        `'${url.host}': credentials in a relay URL would reach logs`,
      );
    }
    const label = eq >= 0 ? entry.slice(0, eq).trim() : url.host;
    if (!LABEL.test(label)) {
      throw new BridgeConfigError(
        'BRIDGE_NOSTR_RELAYS',
        `label '${label}' must be 1..64 of A-Z a-z 0-9 . _ : -`,
      );
    }
    if (relays.some((r) => r.label === label)) {
      throw new BridgeConfigError('BRIDGE_NOSTR_RELAYS', `label '${label}' is used twice`);
    }
    relays.push({ label, url: url.toString() });
  }
  if (relays.length === 0) throw new BridgeConfigError('BRIDGE_NOSTR_RELAYS', 'lists no relay');
  if (relays.length > 32) throw new BridgeConfigError('BRIDGE_NOSTR_RELAYS', 'lists more than 32 relays');
  return relays;
}

/** A key file holds one secret key: 64 hex digits or an `nsec1…` string (surrounding whitespace ignored). */
export function readSecretKey(path: string): Uint8Array {
  let text: string;
  try {
    const mode = statSync(path).mode;
    if (mode & 0o077) {
      throw new BridgeConfigError('BRIDGE_NOSTR_KEY_FILE', `${path} is readable by others; chmod 600 it`);
    }
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    if (e instanceof BridgeConfigError) throw e;
    throw new BridgeConfigError('BRIDGE_NOSTR_KEY_FILE', `cannot read ${path}: ${(e as Error).message}`);
  }
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'));
  if (text.startsWith('nsec1')) {
    try {
      const decoded = decodeNip19(text);
      if (decoded.type === 'nsec') return decoded.data;
    } catch {
      // fall through to the error below, which never echoes the file's content
    }
  }
  throw new BridgeConfigError(
    'BRIDGE_NOSTR_KEY_FILE',
    `${path} holds no secret key (64 hex digits or nsec1…)`,
  );
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new BridgeConfigError(name, `'${raw}' is not a positive integer`);
  return n;
}

/** The bridge configuration, or undefined when no relay is configured (the worker is off). */
export function loadBridgeConfig(env: Env): BridgeConfig | undefined {
  const raw = env.BRIDGE_NOSTR_RELAYS?.trim();
  if (!raw) return undefined;
  const relays = parseRelays(raw);
  const keyFile = env.BRIDGE_NOSTR_KEY_FILE?.trim();
  if (!keyFile)
    throw new BridgeConfigError('BRIDGE_NOSTR_KEY_FILE', 'required when BRIDGE_NOSTR_RELAYS is set');
  const secretKey = readSecretKey(keyFile);
  let publicKey: string;
  try {
    publicKey = getPublicKey(secretKey);
  } catch {
    throw new BridgeConfigError('BRIDGE_NOSTR_KEY_FILE', `${keyFile} holds no valid secp256k1 secret key`);
  }
  const target = env.BRIDGE_TARGET?.trim() || 'nostr';
  if (!LABEL.test(target)) {
    throw new BridgeConfigError('BRIDGE_TARGET', `'${target}' must be 1..64 of A-Z a-z 0-9 . _ : -`);
  }
  const tokenFile = env.BRIDGE_TOKEN_FILE?.trim();
  return {
    relays,
    secretKey,
    publicKey,
    target,
    ...(tokenFile ? { tokenFile } : {}),
    maxInFlight: positiveInt(env, 'BRIDGE_MAX_IN_FLIGHT', 100),
    publishTimeoutMs: positiveInt(env, 'BRIDGE_PUBLISH_TIMEOUT_MS', 10_000),
  };
}
