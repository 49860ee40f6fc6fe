/**
 * A module bundle built ahead of time (`npm run build` writes one for the sync module into dist/),
 * as the SpacetimeDB CLI builds a module and the host only loads the built JavaScript. The host uses
 * it only while it is fresh: the manifest beside it holds a hash of every file the bundle was built
 * from, and a start hashes those files on disk again. Any difference — a module source edited after
 * the build, a different server library, a damaged bundle file — means the module is bundled anew
 * (bundle.ts); a stale bundle never runs.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { type BundleOptions, bundleModuleWithInputs } from './bundle.js';

/** What the manifest (`<name>.json` beside `<name>.js`) records. Paths are relative to its folder. */
interface PrebuiltManifest {
  readonly version: 1;
  readonly entry: string;
  readonly inputs: readonly string[];
  /** sha256 over every input's path and content, in order. */
  readonly inputsHash: string;
  /** sha256 of the bundle file, so a damaged or edited bundle is not run either. */
  readonly bundleHash: string;
}

export type PrebuiltBundle =
  | { readonly kind: 'fresh'; readonly code: string }
  /** None was built (running from the TypeScript sources, or `build --watch`). */
  | { readonly kind: 'absent' }
  | { readonly kind: 'stale'; readonly why: string };

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function inputsHash(dir: string, inputs: readonly string[]): string {
  const hash = createHash('sha256');
  for (const input of inputs) {
    hash.update(input).update('\0');
    hash.update(readFileSync(resolve(dir, input))).update('\0');
  }
  return hash.digest('hex');
}

const bundlePathOf = (manifestPath: string) => manifestPath.replace(/\.json$/, '.js');

/** Bundles `entry` as the host would and writes `manifestPath` (a .json) and the bundle beside it. */
export async function writePrebuiltBundle(
  entry: string,
  manifestPath: string,
  options: BundleOptions = {},
): Promise<void> {
  if (!manifestPath.endsWith('.json')) throw new Error(`${manifestPath}: a prebuilt manifest ends in .json`);
  const dir = dirname(resolve(manifestPath));
  const { code, inputs } = await bundleModuleWithInputs(entry, options);
  const relativeInputs = inputs.map((p) => relative(dir, p)).sort();
  const manifest: PrebuiltManifest = {
    version: 1,
    entry: relative(dir, resolve(entry)),
    inputs: relativeInputs,
    inputsHash: inputsHash(dir, relativeInputs),
    bundleHash: sha256(code),
  };
  writeFileSync(bundlePathOf(manifestPath), code);
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The prebuilt bundle of `entry` when it matches the files on disk now; else why not. */
export function readPrebuiltBundle(manifestPath: string, entry: string): PrebuiltBundle {
  const dir = dirname(resolve(manifestPath));
  let manifest: PrebuiltManifest;
  let code: string;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as PrebuiltManifest;
    code = readFileSync(bundlePathOf(manifestPath), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'stale', why: `prebuilt bundle unreadable (${(e as Error).message})` };
  }
  if (manifest.version !== 1 || !Array.isArray(manifest.inputs))
    return { kind: 'stale', why: 'prebuilt manifest of an unknown format' };
  if (resolve(dir, manifest.entry) !== resolve(entry))
    return { kind: 'stale', why: `prebuilt bundle is of ${manifest.entry}, not ${entry}` };
  if (sha256(code) !== manifest.bundleHash) return { kind: 'stale', why: 'prebuilt bundle file changed' };
  let now: string;
  try {
    now = inputsHash(dir, manifest.inputs);
  } catch (e) {
    return { kind: 'stale', why: `a source of the prebuilt bundle is gone (${(e as Error).message})` };
  }
  if (now !== manifest.inputsHash)
    return { kind: 'stale', why: 'module sources changed since the bundle was built' };
  return { kind: 'fresh', code };
}
