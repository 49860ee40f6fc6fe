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
import { type FsyncPolicy, openDurability } from './durability/index.js';
import { type DevhostDatabase, type LogLevel, openDatabase } from './host/index.js';
import { bundleModule } from './loader/index.js';
import { startServer } from './server/index.js';
import type { DevhostLimits } from './server/limits.js';
import { TokenAuthority } from './server/tokens.js';

export interface DevhostDatabaseSpec {
  readonly name: string;
  readonly moduleEntry: string;
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
  /** What one client may cost the host (connections, buffers, query size, reducer arguments). */
  readonly limits?: Partial<DevhostLimits>;
}

export interface Devhost {
  readonly url: string;
  readonly port: number;
  readonly databases: ReadonlyMap<string, DevhostDatabase>;
  /** Token of the identity that owns (published) every database here: may read private tables. */
  readonly ownerToken: string;
  readonly ownerIdentity: bigint;
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
        bundle = await bundleModule(spec.moduleEntry);
        bundles.set(spec.moduleEntry, bundle);
      }
      // Data written under one schema is refused under another (devhost has no auto-migrations).
      const schemaHash = createHash('sha256').update(describeBundle(bundle)).digest('hex');
      const durability = dir
        ? openDurability(join(dir, 'db', spec.name), {
            schemaHash,
            ...(options.fsync ? { fsync: options.fsync } : {}),
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
  });
  let stopped = false;
  return {
    url: server.url,
    port: server.port,
    databases,
    ownerToken,
    ownerIdentity,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await Promise.all([...databases.values()].map((d) => d.close()));
    },
  };
}
