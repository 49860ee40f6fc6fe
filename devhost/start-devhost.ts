/**
 * Starts devhost: host one or more SpacetimeDB TypeScript modules behind the real client protocol, in
 * this process. With `dataDir` everything (commit log, snapshots, the signing key, the
 * owner's token) survives restarts; without it the databases live in memory.
 */
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeBundle } from './codegen/index.js';
import type { DatabaseRegistry } from './contract.js';
import { type FsyncPolicy, type HistoryCutReport, openDurability } from './durability/index.js';
import { callHistoryCutReducer, HISTORY_CUT_REDUCER } from './history-cut-hook.js';
import { type DevhostDatabase, type LogLevel, openDatabase } from './host/index.js';
import { bundleModule, readPrebuiltBundle } from './loader/index.js';
import { startServer } from './server/index.js';
import type { DevhostLimits } from './server/limits.js';
import { TokenAuthority } from './server/tokens.js';

export interface DevhostDatabaseSpec {
  readonly name: string;
  readonly moduleEntry: string;
  /**
   * Manifest of a bundle of `moduleEntry` built ahead of time (loader/prebuilt.ts): used when it still
   * matches the sources on disk, else the module is bundled now (and a warning says why).
   */
  readonly prebuilt?: string;
}

export interface StartDevhostOptions {
  readonly databases: readonly DevhostDatabaseSpec[];
  readonly host?: string;
  /** 0 or absent: a free port. */
  readonly port?: number;
  readonly dataDir?: string;
  readonly fsync?: FsyncPolicy;
  readonly log?: (level: LogLevel | 'info', message: string) => void;
  /** OIDC issuers whose tokens clients may connect with (their keys found through openid-configuration). */
  readonly trustedIssuers?: readonly string[];
  /** How long a trusted issuer's key set is cached (default 5 min): a retired key verifies at most this long. */
  readonly oidcKeyCacheMs?: number;
  /** What one client may cost the host (connections, buffers, query size, reducer arguments). */
  readonly limits?: Partial<DevhostLimits>;
  /**
   * The operator's override for a commit log damaged in the middle: cut it at the damage (the cut
   * bytes are kept aside) instead of refusing to start, and call `onHistoryCut` for each database
   * cut, before any client can connect. Without it such a log stops the start with the offset named.
   */
  readonly truncateCorrupt?: boolean;
  /**
   * Tell the module its history was cut; default: call its `note_history_cut` reducer as the owner,
   * when it has one (history-cut-hook.ts).
   */
  readonly onHistoryCut?: (db: DevhostDatabase, cut: HistoryCutReport) => Promise<void>;
}

export interface Devhost {
  readonly url: string;
  readonly port: number;
  readonly databases: ReadonlyMap<string, DevhostDatabase>;
  /** Token of the identity that owns (published) every database here: may read private tables. */
  readonly ownerToken: string;
  readonly ownerIdentity: bigint;
  /** Accept tokens of one more OIDC issuer from now on (its keys found through its openid-configuration). */
  trustIssuer(issuer: string): void;
  /** Why some database cannot commit right now (e.g. its commit log is out of space); empty when all can. */
  commitProblems(): string[];
  stop(): Promise<void>;
}

function loadOrCreate<T>(
  path: string | undefined,
  create: () => T,
  encode: (v: T) => string,
  decode: (s: string) => T,
): T {
  if (path) {
    try {
      return decode(readFileSync(path, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  const value = create();
  if (path) writeFileSync(path, encode(value), { mode: 0o600 });
  return value;
}

export async function startDevhost(options: StartDevhostOptions): Promise<Devhost> {
  const dir = options.dataDir;
  if (dir) mkdirSync(dir, { recursive: true });
  const signingKey: KeyObject = loadOrCreate(
    dir && join(dir, 'signing-key.pem'),
    () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    (k) => k.export({ type: 'pkcs8', format: 'pem' }).toString(),
    (pem) => createPrivateKey(pem),
  );
  const authority = new TokenAuthority(signingKey);
  const ownerToken = loadOrCreate(
    dir && join(dir, 'owner-token'),
    () => authority.mintAnonymous().token,
    (t) => t,
    (s) => s.trim(),
  );
  const ownerIdentity = authority.verify(ownerToken).claims.identity;

  const log = options.log ?? (() => {});
  const databases = new Map<string, DevhostDatabase>();
  const bundles = new Map<string, string>();
  try {
    for (const spec of options.databases) {
      let bundle = bundles.get(spec.moduleEntry);
      if (bundle === undefined) {
        const prebuilt = spec.prebuilt ? readPrebuiltBundle(spec.prebuilt, spec.moduleEntry) : undefined;
        if (prebuilt?.kind === 'stale')
          log('warn', `[${spec.name}] bundling the module now: ${prebuilt.why}`);
        bundle = prebuilt?.kind === 'fresh' ? prebuilt.code : await bundleModule(spec.moduleEntry);
        bundles.set(spec.moduleEntry, bundle);
      }
      const durability = dir
        ? openDurability(join(dir, 'db', spec.name), {
            // Data written under one schema is refused under another (devhost has no auto-migrations).
            // Only a data dir needs it: describing the module evaluates it once more in its own context.
            schemaHash: createHash('sha256').update(describeBundle(bundle)).digest('hex'),
            ...(options.fsync ? { fsync: options.fsync } : {}),
            truncateCorrupt: options.truncateCorrupt === true,
            // Recovery's own repairs (a torn tail cut, a damaged snapshot skipped) are the operator's to see.
            onWarning: (message) => log('warn', `[${spec.name}] ${message}`),
          })
        : undefined;
      const db = await openDatabase({
        name: spec.name,
        bundle,
        owner: ownerIdentity,
        ...(durability ? { durability } : {}),
        log: (level, message) => log(level, `[${spec.name}] ${message}`),
      });
      databases.set(spec.name, db);
      const cut = durability?.historyCut;
      if (cut) {
        log(
          'warn',
          `[${spec.name}] history cut: committed offsets ${cut.fromOffset}..${cut.throughOffset} are gone ` +
            `(damage at byte ${cut.atByte} of ${cut.segment}: ${cut.problem}); kept aside in ${cut.keptAs.join(', ')}`,
        );
        if (options.onHistoryCut) await options.onHistoryCut(db, cut);
        else if (await callHistoryCutReducer(db, cut))
          log('warn', `[${spec.name}] told the module (${HISTORY_CUT_REDUCER})`);
      }
    }
  } catch (e) {
    await Promise.all([...databases.values()].map((d) => d.close()));
    throw e;
  }
  const registry: DatabaseRegistry = { get: (name) => databases.get(name) };
  const server = await startServer({
    databases: registry,
    signingKey,
    ...(options.host ? { host: options.host } : {}),
    ...(options.port ? { port: options.port } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.trustedIssuers ? { trustedIssuers: options.trustedIssuers } : {}),
    ...(options.oidcKeyCacheMs !== undefined ? { oidcKeyCacheMs: options.oidcKeyCacheMs } : {}),
  });
  let stopped = false;
  return {
    url: server.url,
    port: server.port,
    databases,
    ownerToken,
    ownerIdentity,
    trustIssuer: (issuer) => server.trustIssuer(issuer),
    commitProblems: () =>
      [...databases.values()].flatMap((d) => {
        const why = d.commitBlocked();
        return why === undefined ? [] : [`${d.name}: ${why}`];
      }),
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await Promise.all([...databases.values()].map((d) => d.close()));
    },
  };
}
