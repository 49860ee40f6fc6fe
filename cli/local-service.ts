/**
 * `npm start` (embedded defaults) records where it listens and the embedded database's owner token
 * in a file only this user can read, so the CLI on the same machine finds the local service without
 * flags, and the token never goes to stdout or a log. The file is removed on graceful shutdown; one
 * left by a killed service points at a dead address, which commands report as unreachable (exit 3).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeSecretFileSync } from '../shared/secret-file.js';
import { stateDir } from '../shared/state-dir.js';

export interface LocalService {
  readonly pid: number;
  /** The HTTP address of ingest, AdminService, /metrics. */
  readonly url: string;
  readonly spacetimedb: {
    readonly uri: string;
    readonly database: string;
    /** Every shard's database (the first is `uri`/`database`); commands route a stream to its shard. */
    readonly shards?: readonly { readonly name: string; readonly uri: string; readonly database: string }[];
  };
  /** The embedded devhost's owner token; absent when the service writes to a configured SpacetimeDB. */
  readonly ownerToken?: string;
  /**
   * The local token issuer it accepts (its private key file and the audience), from which the CLI
   * mints short-lived tokens for calls to this service; absent when the local issuer is off.
   */
  readonly auth?: { readonly keyFile: string; readonly audience: string };
  /** The Kafka cluster and topics it consumes, when it does (for `publish --kafka`). */
  readonly kafka?: { readonly brokers: readonly string[]; readonly topics: readonly string[] };
}

/** `$SPACETIME_SYNC_STATE_DIR/local.json`, else `$XDG_STATE_HOME/spacetime-sync/local.json` (~/.local/state). */
export function localServicePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'local.json');
}

export function writeLocalService(info: LocalService, path = localServicePath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeSecretFileSync(path, `${JSON.stringify(info, null, 2)}\n`);
}

/** Removes the file if it is still this process's (a newer `npm start` may have replaced it). */
export function removeLocalService(pid = process.pid, path = localServicePath()): void {
  if (readLocalService(path)?.pid === pid) rmSync(path, { force: true });
}

/** The recorded local service, or undefined when none is recorded (or the file is unreadable). */
export function readLocalService(path = localServicePath()): LocalService | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<LocalService>;
    if (typeof v.url !== 'string' || typeof v.spacetimedb?.uri !== 'string') return undefined;
    return v as LocalService;
  } catch {
    return undefined;
  }
}
