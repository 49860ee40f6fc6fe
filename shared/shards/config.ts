/**
 * The shard list from the environment, read the same way by the service, the CLI and the tools:
 *
 * - `SPACETIMEDB_SHARDS=name=uri,…` lists the databases streams are spread over. The database of a
 *   shard is the URI's one path segment (`s1=wss://stdb.example.com/sync-s1`), or `SPACETIMEDB_DB`
 *   when the URI has no path. It replaces `SPACETIMEDB_URI`; setting both is refused.
 * - `SPACETIMEDB_SHARD_COUNT=N` (1-16, default 1) with neither: the embedded devhost hosts N
 *   databases, shards `shard-0` … `shard-<N-1>`.
 * - `SPACETIMEDB_URI` alone: one shard, `shard-0`.
 *
 * The writer token is `SPACETIMEDB_TOKEN` for every shard, or a shard's own
 * `SPACETIMEDB_SHARD_TOKEN_<NAME>`: SpacetimeDB identity tokens are signed per host, so shards on
 * separate hosts each need the token that host minted for the writer identity.
 *
 * Every refusal names its variable through `fail`, so each caller keeps its own error type.
 */
import { readMovesFile } from './moves-file.js';
import { SHARD_NAME, ShardMapError, type ShardMove, shardMap } from './route.js';

export interface RemoteShard {
  readonly name: string;
  readonly uri: string;
  readonly database: string;
  /** `SPACETIMEDB_SHARD_TOKEN_<NAME>`: this shard's writer token, when its host signs its own. */
  readonly token?: string;
}

/** The variable holding a shard's own token: `SPACETIMEDB_SHARD_TOKEN_` + the name in capitals, `-` as `_`. */
export const shardTokenVariable = (name: string): string =>
  `SPACETIMEDB_SHARD_TOKEN_${name.toUpperCase().replaceAll('-', '_')}`;

/** The name of the only shard of an unsharded deployment (and the first embedded shard). */
export const FIRST_SHARD = 'shard-0';
export const MAX_EMBEDDED_SHARDS = 16;

type Env = Readonly<Record<string, string | undefined>>;
type Fail = (variable: string, message: string) => Error;

/** `SPACETIMEDB_SHARDS`, parsed and validated; undefined when unset. */
export function remoteShards(env: Env, fail: Fail): RemoteShard[] | undefined {
  const raw = env.SPACETIMEDB_SHARDS?.trim();
  if (!raw) return undefined;
  if (env.SPACETIMEDB_URI?.trim()) {
    throw fail('SPACETIMEDB_SHARDS', 'replaces SPACETIMEDB_URI; set one of them, not both');
  }
  if (env.SPACETIMEDB_SHARD_COUNT?.trim()) {
    throw fail(
      'SPACETIMEDB_SHARD_COUNT',
      'is for the embedded devhost only; SPACETIMEDB_SHARDS lists the shards',
    );
  }
  const fallbackDb = env.SPACETIMEDB_DB?.trim();
  const shards = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((item) => {
      const eq = item.indexOf('=');
      const name = eq > 0 ? item.slice(0, eq).trim() : '';
      const uri = eq > 0 ? item.slice(eq + 1).trim() : '';
      if (!name || !uri) throw fail('SPACETIMEDB_SHARDS', `'${item}' is not name=uri`);
      if (!SHARD_NAME.test(name)) {
        throw fail('SPACETIMEDB_SHARDS', `shard name '${name}' must be 1-63 of a-z, 0-9, '_' or '-'`);
      }
      const m = /^((?:wss?|https?):\/\/[^/\s]+)(?:\/([^/\s]*))?\/?$/.exec(uri);
      if (!m) {
        throw fail(
          'SPACETIMEDB_SHARDS',
          `shard '${name}': '${uri}' must be a ws://, wss://, http:// or https:// URL, optionally with the database as its path`,
        );
      }
      const database = m[2] || fallbackDb;
      if (!database) {
        throw fail(
          'SPACETIMEDB_SHARDS',
          `shard '${name}' names no database: add it as the URI's path or set SPACETIMEDB_DB`,
        );
      }
      const token = env[shardTokenVariable(name)]?.trim();
      return { name, uri: m[1] as string, database, ...(token ? { token } : {}) };
    });
  try {
    shardMap(shards.map((s) => s.name));
  } catch (e) {
    if (e instanceof ShardMapError) throw fail('SPACETIMEDB_SHARDS', e.message);
    throw e;
  }
  const targets = new Set<string>();
  for (const s of shards) {
    const key = `${s.uri}/${s.database}`;
    if (targets.has(key)) throw fail('SPACETIMEDB_SHARDS', `shard '${s.name}' repeats database ${key}`);
    targets.add(key);
  }
  return shards;
}

/** `SPACETIMEDB_SHARD_COUNT` for the embedded devhost (default 1). */
export function embeddedShardCount(env: Env, fail: Fail): number {
  const raw = env.SPACETIMEDB_SHARD_COUNT?.trim();
  if (!raw) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_EMBEDDED_SHARDS) {
    throw fail('SPACETIMEDB_SHARD_COUNT', `'${raw}' is not a whole number from 1 to ${MAX_EMBEDDED_SHARDS}`);
  }
  if (env.SPACETIMEDB_URI?.trim()) {
    throw fail(
      'SPACETIMEDB_SHARD_COUNT',
      'is for the embedded devhost only; SPACETIMEDB_SHARDS lists remote shards',
    );
  }
  return n;
}

/** The embedded shards' names: `shard-0` … `shard-<n-1>`. */
export function embeddedShardNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `shard-${i}`);
}

/**
 * The embedded database of shard `i`: the first keeps the unsharded name (so one shard is exactly
 * the service it always was, data dir included); the others get the shard name as a suffix.
 */
export function embeddedDatabase(base: string, index: number): string {
  return index === 0 ? base : `${base}-shard-${index}`;
}

/** `SPACETIMEDB_SHARD_MOVES_FILE`: the streams a reshard moved (./moves-file.ts); none when unset. */
export function shardMoves(env: Env, fail: Fail): ShardMove[] {
  const path = env.SPACETIMEDB_SHARD_MOVES_FILE?.trim();
  if (!path) return [];
  try {
    return readMovesFile(path);
  } catch (e) {
    throw fail('SPACETIMEDB_SHARD_MOVES_FILE', (e as Error).message);
  }
}
