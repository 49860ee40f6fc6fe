/**
 * Test-only pieces for the bridge: a signing key in a file (as the service reads it), a worker
 * identity of its own (a token the devhost minted for a fresh connection), and the service with its
 * bridge worker pointed at a devhost in the test process.
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Devhost } from '@spacetime-sync/devhost';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { setGlobalLogLevel } from 'spacetimedb';
import { type BridgeConfig, loadBridgeConfig } from '../../adapter/bridge/bridge-config.js';
import { type RunningService, startService } from '../../adapter/service.js';
import { createLogger } from '../../adapter/telemetry/logger.js';
import { testAuthConfig } from './auth.js';
import { connect, SYNC_DB } from './devhost-harness.js';

// The SDK's connection chatter would fill the test output.
setGlobalLogLevel('warn');

export interface KeyFiles {
  readonly dir: string;
  readonly keyFile: string;
  readonly publicKey: string;
  /** A token of a fresh identity (not a writer, not the owner) for the worker to run as. */
  readonly tokenFile: string;
}

/** A fresh signing key in a file of a new temporary directory, as BRIDGE_NOSTR_KEY_FILE reads it. */
export async function nostrKeyFile(): Promise<Omit<KeyFiles, 'tokenFile'>> {
  const dir = await mkdtemp(join(tmpdir(), 'spacetime-sync-bridge-'));
  const secret = generateSecretKey();
  const keyFile = join(dir, 'nostr.key');
  await writeFile(keyFile, bytesToHex(secret));
  await chmod(keyFile, 0o600);
  return { dir, keyFile, publicKey: getPublicKey(secret) };
}

export async function bridgeFiles(devhost: Pick<Devhost, 'url'>): Promise<KeyFiles> {
  const key = await nostrKeyFile();
  const worker = await connect(devhost);
  worker.conn.disconnect();
  const tokenFile = join(key.dir, 'worker.token');
  await writeFile(tokenFile, worker.token);
  await chmod(tokenFile, 0o600);
  return { ...key, tokenFile };
}

export function bridgeEnv(files: KeyFiles, relays: string): Record<string, string> {
  return {
    BRIDGE_NOSTR_RELAYS: relays,
    BRIDGE_NOSTR_KEY_FILE: files.keyFile,
    BRIDGE_TOKEN_FILE: files.tokenFile,
  };
}

/** The service (writer, ingest, bridge worker) against `devhost` (in this process or its own), in this process. */
export function startBridgeService(
  devhost: Pick<Devhost, 'url' | 'ownerToken'>,
  files: KeyFiles,
  relays: string,
  extraEnv: Record<string, string> = {},
): Promise<RunningService> {
  const bridge = loadBridgeConfig({ ...bridgeEnv(files, relays), ...extraEnv }) as BridgeConfig;
  return startService(
    {
      spacetime: { kind: 'remote', uri: devhost.url, database: SYNC_DB, token: devhost.ownerToken },
      ingest: { host: '127.0.0.1', port: 0 },
      auth: testAuthConfig,
      logLevel: 'silent',
      probeIntervalMs: 0,
      bridge,
    },
    createLogger({ level: 'silent' }),
    { defaultMetrics: false },
  );
}

/** One metric's value from a Prometheus text scrape (0 when absent). */
export async function metricValue(httpUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}
