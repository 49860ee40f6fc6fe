#!/usr/bin/env node
// Compiles the CLI and the service to JavaScript in dist/ (run by `npm ci` through `prepare`, and by
// `npm test`), so `spacetime-sync` starts without compiling TypeScript. esbuild bundles our sources
// (and the SDK's TypeScript-only internals devhost reaches by path) into ES modules; npm packages stay
// external. Chunks are split at the CLI's `await import()`s, so `--help` loads only the command
// definitions. Every output file sits directly in dist/, one level below the repository root like
// the source folders, so `new URL('../…', import.meta.url)` finds the same files from either place.
// It also bundles the sync module once, with devhost's own bundler (compiled here, so the bundle is
// byte for byte what the embedded devhost would build), into dist/sync-module.bundle.js plus a
// manifest hashing its sources: a start uses it while the sources match and needs no esbuild then
// (devhost/loader/prebuilt.ts). `--watch` writes none (devhost bundles the module at each start).
// Usage: node scripts/build.mjs [--watch]
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { build, context } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('package.json', `file://${root}`), 'utf8'));
// Workspace packages (devhost) are our own TypeScript: bundled like the rest, each loaded from its
// own chunk at the `await import()` that needs it; their npm dependencies stay external too.
const workspaces = (pkg.workspaces ?? []).map((dir) =>
  JSON.parse(readFileSync(new URL(`${dir}/package.json`, `file://${root}`), 'utf8')),
);
const ours = new Set(workspaces.map((w) => w.name));
const packages = [
  ...new Set([pkg, ...workspaces].flatMap((p) => Object.keys({ ...p.dependencies, ...p.devDependencies }))),
].filter((name) => !ours.has(name));

const options = {
  absWorkingDir: root,
  // prebuilt: the build step below runs devhost's compiled writePrebuiltBundle. devhost-worker: the
  // embedded devhost's worker thread, started by URL beside the chunk that starts it.
  entryPoints: {
    cli: 'cli/main.ts',
    prebuilt: 'devhost/loader/prebuilt.ts',
    'devhost-worker': 'adapter/devhost-thread/worker.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  chunkNames: 'chunk-[hash]',
  // Each npm package and its subpaths (spacetimedb/server, @bufbuild/protobuf/wkt, …) load from node_modules.
  external: packages.flatMap((p) => [p, `${p}/*`]),
  logLevel: 'warning',
};

rmSync(new URL('dist', `file://${root}`), { recursive: true, force: true });
// Worker-thread entry files are loaded by URL next to the code that starts them (plain JS, not bundled).
mkdirSync(new URL('dist', `file://${root}`), { recursive: true });
copyFileSync(
  new URL('adapter/bridge/sign-worker.mjs', `file://${root}`),
  new URL('dist/sign-worker.mjs', `file://${root}`),
);
if (process.argv.includes('--watch')) {
  await (await context(options)).watch();
  console.log('build: watching for changes');
} else {
  await build(options);
  const { writePrebuiltBundle } = await import(new URL('dist/prebuilt.js', `file://${root}`).href);
  await writePrebuiltBundle(`${root}module/src/index.ts`, `${root}dist/sync-module.bundle.json`);
}
