/**
 * The `parity` command's flags turned into a checked run description. Pure apart from reading token
 * files: tokens never come from argument values, only from the environment (`LEGACY_LANE_TOKEN`,
 * `SPACETIMEDB_TOKEN`) or a file.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../cli/exit-codes.js';
import { resolveShards, resolveSpacetime } from '../../cli/options.js';
import type { ShardEndpoint } from '../../client/sharded-client.js';
import { type DocKeyRule, GEN1_RULES } from '../mapping.js';
import { DEFAULT_VOLATILE_FIELDS } from '../payload-canon.js';

export const GEN1_TOPICS: readonly string[] = [
  'runtime.run_summaries',
  'runtime.codex_worker_summaries',
  'runtime.codex_worker_events',
  'runtime.notifications',
];

/** The flags as commander hands them over. */
export interface ParityFlags {
  readonly legacy: string;
  readonly candidate?: string;
  readonly db?: string;
  readonly topics?: string[];
  readonly streams?: string[];
  readonly from?: FromEntry[];
  readonly duration?: number;
  readonly settle?: number;
  readonly json?: string;
  readonly volatileField?: string[];
  readonly gen1DocKeys?: boolean;
  readonly docKeyRule?: DocKeyRule[];
  readonly legacyTokenFile?: string;
  readonly tokenFile?: string;
}

export interface ParityArgs {
  readonly legacyUrl: string;
  readonly candidateUri: string;
  readonly database: string;
  readonly topics: readonly string[];
  /** undefined: every stream the candidate token may read, at start. */
  readonly streams: readonly string[] | undefined;
  readonly legacyFrom: ReadonlyMap<string, bigint>;
  readonly candidateFrom: ReadonlyMap<string, bigint>;
  readonly durationMs: number;
  readonly settleMs: number;
  readonly jsonPath: string | undefined;
  readonly volatileFields: readonly string[];
  readonly rules: readonly DocKeyRule[];
  /** Read again before every connect of the legacy client (a refreshed short-lived token is picked up). */
  readonly legacyToken: () => string;
  readonly candidateToken: string | undefined;
  /** Where the candidate token came from, for messages. */
  readonly candidateTokenSource: string;
  /** A sharded candidate's shards (SPACETIMEDB_SHARDS or the local service's): streams are read from their shard. */
  readonly candidateShards?: readonly ShardEndpoint[];
}

export type FromEntry = {
  readonly lane: 'legacy' | 'candidate';
  readonly name: string;
  readonly position: bigint;
};

/** `30s`, `2m`, `1500ms`, `1h`, or plain seconds. */
export function parseDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`'${raw}' is not a duration (e.g. 30s, 2m, 500ms)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

export function parseFromEntry(raw: string): FromEntry {
  const m = /^(legacy|candidate):(.+)=(\d+)$/.exec(raw);
  if (!m) throw new UsageError(`'${raw}' is not legacy:<topic>=<watermark> or candidate:<stream>=<seq>`);
  return { lane: m[1] as 'legacy' | 'candidate', name: m[2] as string, position: BigInt(m[3] as string) };
}

export function parseRule(raw: string): DocKeyRule {
  const m = /^([^=]+)=([^|]*)\|([^|]*)(\|per-version)?$/.exec(raw);
  if (!m) throw new UsageError(`'${raw}' is not <topic>=<doc_key prefix>|<stream prefix>[|per-version]`);
  return {
    topic: m[1] as string,
    docKeyPrefix: m[2] as string,
    streamPrefix: m[3] as string,
    perVersion: Boolean(m[4]),
  };
}

export function parseList(raw: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

function checkUrl(flag: string, raw: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${flag}: '${raw}' is not a URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new UsageError(`${flag}: '${raw}' must be ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  if (url.searchParams.has('token')) {
    throw new UsageError(`${flag}: the token goes in the environment or a token file, not in the URL`);
  }
  return raw;
}

function readToken(file: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(e as Error).message}`);
  }
  if (!text) throw new UsageError(`${flag}: ${file} is empty`);
  return text;
}

/** The gen-1 rules (what the reference lane and real gen-1 endpoints use), then --doc-key-rule over them. */
function mergeRules(base: readonly DocKeyRule[], given: readonly DocKeyRule[]): DocKeyRule[] {
  const byTopic = new Map(base.map((r) => [r.topic, r]));
  for (const r of given) byTopic.set(r.topic, r);
  return [...byTopic.values()];
}

export function resolveParityArgs(f: ParityFlags, env: NodeJS.ProcessEnv = process.env): ParityArgs {
  const legacyFrom = new Map<string, bigint>();
  const candidateFrom = new Map<string, bigint>();
  for (const e of f.from ?? []) (e.lane === 'legacy' ? legacyFrom : candidateFrom).set(e.name, e.position);
  const envLegacy = env.LEGACY_LANE_TOKEN?.trim();
  const legacyFile = f.legacyTokenFile;
  if (!legacyFile && !envLegacy) throw new UsageError('set LEGACY_LANE_TOKEN or --legacy-token-file <file>');
  if (legacyFile) readToken(legacyFile, '--legacy-token-file'); // fail now, not at the first connect
  // The candidate is found the way every command finds SpacetimeDB (flags, env, the local service).
  const target = resolveSpacetime({
    ...(f.candidate ? { spacetimedb: f.candidate } : {}),
    ...(f.db ? { database: f.db } : {}),
    ...(f.tokenFile ? { tokenFile: f.tokenFile } : {}),
  });
  return {
    legacyUrl: checkUrl('--legacy', f.legacy, ['ws:', 'wss:']),
    candidateUri: checkUrl('--candidate', target.uri, ['ws:', 'wss:', 'http:', 'https:']),
    database: target.database,
    topics: f.topics?.length ? f.topics : GEN1_TOPICS,
    streams: f.streams?.length ? f.streams : undefined,
    legacyFrom,
    candidateFrom,
    durationMs: f.duration ?? 30_000,
    settleMs: f.settle ?? 10_000,
    jsonPath: f.json,
    volatileFields: f.volatileField?.length ? f.volatileField : DEFAULT_VOLATILE_FIELDS,
    rules: mergeRules(f.gen1DocKeys === false ? [] : GEN1_RULES, f.docKeyRule ?? []),
    legacyToken: legacyFile ? () => readToken(legacyFile, '--legacy-token-file') : () => envLegacy as string,
    candidateToken: target.token,
    candidateTokenSource: target.tokenSource,
    ...optionalShards(
      resolveShards({
        ...(f.candidate ? { spacetimedb: f.candidate } : {}),
        ...(f.db ? { database: f.db } : {}),
        ...(f.tokenFile ? { tokenFile: f.tokenFile } : {}),
      }),
    ),
  };
}

function optionalShards(shards: ShardEndpoint[] | undefined): { candidateShards?: ShardEndpoint[] } {
  return shards ? { candidateShards: shards } : {};
}
