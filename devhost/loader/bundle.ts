/**
 * Bundles a module entry the way `spacetime build` does (host spec §1.1,
 * `crates/cli/src/tasks/javascript.rs`): browser platform, conditions production/import/default,
 * `process.env.NODE_ENV` defined, and the server library inlined. Two deliberate differences:
 * - target es2022, so the library's `using` declarations are lowered for Node 20;
 * - instead of leaving `spacetime:sys@MAJ.MIN` external and linking synthetic ES modules (which needs
 *   `vm.SourceTextModule` and `--experimental-vm-modules`), each sys import resolves to a virtual module
 *   that reads the host-provided object from a context global, and the bundle is emitted as a script
 *   whose value is the module's export object. Same exports, same evaluation order, no Node flag.
 */
import { resolve } from 'node:path';
import type { Plugin } from 'esbuild';
import { SYS_GLOBAL, SYS_MODULES } from './sys-exports.js';

/** Global the script assigns the module's exports to. */
export const MODULE_EXPORTS_GLOBAL = '__spacetimedb_module__';

const SYS_SPECIFIER = /^spacetime:/;

/** Mirrors `resolve_sys_module`: only `spacetime:sys@MAJ.MIN` with a known version links. */
function sysModuleSource(specifier: string): string {
  const match = /^spacetime:sys@(\d+)\.(\d+)$/.exec(specifier);
  const version = match ? `${match[1]}.${match[2]}` : undefined;
  const names = version === undefined ? undefined : SYS_MODULES[version];
  if (version === undefined || names === undefined) {
    const why =
      match && Number(match[1]) > 2
        ? `module was built for a newer version of SpacetimeDB (${specifier})`
        : `Could not find module ${JSON.stringify(specifier)}`;
    return `throw new TypeError(${JSON.stringify(why)});`;
  }
  const lines = [`const sys = globalThis[${JSON.stringify(SYS_GLOBAL)}][${JSON.stringify(version)}];`];
  for (const name of names) lines.push(`export const ${name} = sys.${name};`);
  return lines.join('\n');
}

const sysPlugin: Plugin = {
  name: 'spacetime-sys',
  setup(b) {
    b.onResolve({ filter: SYS_SPECIFIER }, (args) => ({ path: args.path, namespace: 'spacetime-sys' }));
    b.onLoad({ filter: /.*/, namespace: 'spacetime-sys' }, (args) => ({
      contents: sysModuleSource(args.path),
      loader: 'js',
    }));
  },
};

export interface BundleOptions {
  /** `process.env.NODE_ENV` as `spacetime build` defines it; default "production". */
  readonly mode?: 'production' | 'development';
}

/** Bundles `entry` (a .ts/.js module source) into a script evaluating to the module's exports. */
export async function bundleModule(entry: string, options: BundleOptions = {}): Promise<string> {
  return (await bundleModuleWithInputs(entry, options)).code;
}

export interface BuiltBundle {
  readonly code: string;
  /** Absolute paths of every file the bundle was built from (the module's sources, the server library). */
  readonly inputs: readonly string[];
}

/** Same bundle as bundleModule, with the files it was built from (for prebuilt.ts's freshness hash). */
export async function bundleModuleWithInputs(
  entry: string,
  options: BundleOptions = {},
): Promise<BuiltBundle> {
  // esbuild (≈17 MiB and a child process that stays for the process's life) is imported only when a
  // module is bundled: a host started from a fresh prebuilt bundle (prebuilt.ts) never loads it.
  const { build } = await import('esbuild');
  const result = await build({
    metafile: true,
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: MODULE_EXPORTS_GLOBAL,
    platform: 'browser',
    target: 'es2022',
    conditions: ['production', 'import', 'default'],
    mainFields: ['exports', 'module', 'main'],
    define: { 'process.env.NODE_ENV': JSON.stringify(options.mode ?? 'production') },
    sourcemap: 'inline',
    logLevel: 'silent',
    plugins: [sysPlugin],
    // ES modules are strict; a script is not unless it says so.
    banner: { js: '"use strict";' },
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced no output for ${entry}`);
  // Metafile paths are relative to the working directory; the sys modules are virtual (no file).
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes(':'))
    .map((p) => resolve(p));
  return { code: out.text, inputs };
}
