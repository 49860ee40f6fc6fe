/**
 * The flags commands share, spelled and resolved the same way everywhere:
 *
 * - `--url <http://…>`: the spacetime-sync service (ingest + AdminService). Else SPACETIME_SYNC_URL,
 *   else the service `npm start` runs on this machine (see local-service.ts), else http://127.0.0.1:8080.
 * - `--json`: machine-readable output.
 * - `--spacetimedb <ws://…>`, `--database <name>`, `--token-file <file>`: a SpacetimeDB database,
 *   else SPACETIMEDB_URI / SPACETIMEDB_DB / SPACETIMEDB_TOKEN, else the local embedded one. Tokens come
 *   from the environment or a file, never from the command line (other users can read it in `ps`).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import { remoteShards, shardMoves, shardTokenVariable } from '../shared/shards/config.js';
import { shardFor, shardMap } from '../shared/shards/route.js';
import { UsageError } from './exit-codes.js';
import { readLocalService } from './local-service.js';

export const DEFAULT_SERVICE_URL = 'http://127.0.0.1:8080';

function checkUrl(value: string, protocols: readonly string[], what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`'${value}' is not a URL (example: ${protocols[0]}//127.0.0.1:8080)`);
  }
  if (!protocols.includes(url.protocol))
    throw new InvalidArgumentError(
      `${what} must be ${protocols.map((p) => `${p}//`).join(' or ')}, got '${value}'`,
    );
  return value.replace(/\/+$/, '');
}

const serviceUrl = (v: string) => checkUrl(v, ['http:', 'https:'], 'the service URL');
const spacetimeUrl = (v: string) => checkUrl(v, ['ws:', 'wss:', 'http:', 'https:'], 'the SpacetimeDB URI');

export const urlOption = () =>
  new Option(
    '--url <url>',
    `the spacetime-sync service (else SPACETIME_SYNC_URL, else the one \`npm start\` runs here, else ${DEFAULT_SERVICE_URL})`,
  ).argParser(serviceUrl);

export const jsonOption = () => new Option('--json', 'print JSON instead of text');

export interface UrlOptions {
  readonly url?: string;
}

/** Env values are checked like flags; a bad one is a usage error naming the variable. */
function fromEnv(name: string, check: (v: string) => string): string | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  try {
    return check(raw);
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message}`);
  }
}

export function resolveServiceUrl(opts: UrlOptions): string {
  return (
    opts.url ?? fromEnv('SPACETIME_SYNC_URL', serviceUrl) ?? readLocalService()?.url ?? DEFAULT_SERVICE_URL
  );
}

export const spacetimeOptions = () => [
  new Option(
    '--spacetimedb <uri>',
    'SpacetimeDB address (else SPACETIMEDB_URI, else the embedded one `npm start` runs here)',
  ).argParser(spacetimeUrl),
  new Option('--database <name>', 'database name (else SPACETIMEDB_DB, else spacetime-sync)'),
  new Option(
    '--token-file <file>',
    'file holding the token to connect with (else SPACETIMEDB_TOKEN, else the local owner token)',
  ),
];

export interface SpacetimeOptions {
  readonly spacetimedb?: string;
  readonly database?: string;
  readonly tokenFile?: string;
}

export interface SpacetimeTarget {
  readonly uri: string;
  readonly database: string;
  readonly token?: string;
  /** Where the token came from, for messages (never the token itself). */
  readonly tokenSource: string;
}

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`cannot read --token-file ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  if (!text) throw new UsageError(`--token-file ${file} is empty`);
  return text;
}

/**
 * The SpacetimeDB database a command talks to; the local owner token only goes to the local devhost.
 * Given the stream it is about, a command on a sharded deployment (`SPACETIMEDB_SHARDS`, or a local
 * service running several embedded shards) talks to that stream's shard, chosen by the one routing
 * function (shared/shards/route.ts); without a stream, to the first shard. `--spacetimedb` wins.
 */
export function resolveSpacetime(opts: SpacetimeOptions, streamId?: string): SpacetimeTarget {
  if (!opts.spacetimedb) {
    const sharded = shardTarget(opts, streamId);
    if (sharded) return sharded;
  }
  const local = readLocalService();
  const uri = opts.spacetimedb ?? fromEnv('SPACETIMEDB_URI', spacetimeUrl) ?? local?.spacetimedb.uri;
  if (!uri)
    throw new UsageError(
      'no SpacetimeDB to connect to: start the service (`npm start`), or give --spacetimedb or SPACETIMEDB_URI',
    );
  const isLocal = local !== undefined && uri === local.spacetimedb.uri;
  const database =
    opts.database ??
    (process.env.SPACETIMEDB_DB?.trim() || (isLocal ? local.spacetimedb.database : 'spacetime-sync'));
  const envToken = process.env.SPACETIMEDB_TOKEN?.trim();
  if (opts.tokenFile) return { uri, database, token: readToken(opts.tokenFile), tokenSource: opts.tokenFile };
  if (envToken) return { uri, database, token: envToken, tokenSource: 'SPACETIMEDB_TOKEN' };
  if (isLocal && local.ownerToken)
    return { uri, database, token: local.ownerToken, tokenSource: 'the local owner token' };
  return { uri, database, tokenSource: 'no token (a fresh anonymous identity)' };
}

/** A shard's database and the token a command reads it with. */
export interface ShardTarget extends SpacetimeTarget {
  readonly name: string;
}

/**
 * Every shard, when shards are configured (`SPACETIMEDB_SHARDS`, each with its own token or
 * `SPACETIMEDB_TOKEN`) or recorded by the local service (its owner token); undefined otherwise, or
 * when `--spacetimedb` names one database.
 */
export function resolveShards(opts: SpacetimeOptions): ShardTarget[] | undefined {
  if (opts.spacetimedb) return undefined;
  const remote = remoteShards(process.env, (v, m) => new UsageError(`${v}: ${m}`));
  const local = remote || process.env.SPACETIMEDB_URI?.trim() ? undefined : readLocalService();
  const shards = remote ?? local?.spacetimedb.shards;
  if (!shards || shards.length === 0) return undefined;
  const fileToken = opts.tokenFile ? readToken(opts.tokenFile) : undefined;
  const envToken = process.env.SPACETIMEDB_TOKEN?.trim();
  return shards.map((shard) => {
    const at = { name: shard.name, uri: shard.uri, database: opts.database ?? shard.database };
    const own = remote ? (shard as { token?: string }).token : undefined;
    if (fileToken) return { ...at, token: fileToken, tokenSource: opts.tokenFile as string };
    if (own) return { ...at, token: own, tokenSource: shardTokenVariable(shard.name) };
    if (envToken) return { ...at, token: envToken, tokenSource: 'SPACETIMEDB_TOKEN' };
    if (local?.ownerToken) return { ...at, token: local.ownerToken, tokenSource: 'the local owner token' };
    return { ...at, tokenSource: 'no token (a fresh anonymous identity)' };
  });
}

/** The stream's shard (the first shard without a stream) when sharded; undefined otherwise. */
function shardTarget(opts: SpacetimeOptions, streamId: string | undefined): SpacetimeTarget | undefined {
  const shards = resolveShards(opts);
  if (!shards) return undefined;
  // Moved streams (SPACETIMEDB_SHARD_MOVES_FILE) route to their new shard, as in the service.
  const moves = shardMoves(process.env, (v, m) => new UsageError(`${v}: ${m}`));
  const name =
    streamId === undefined
      ? shards[0]?.name
      : shardFor(
          shardMap(
            shards.map((x) => x.name),
            moves,
          ),
          streamId,
        );
  return shards.find((x) => x.name === name) ?? shards[0];
}
