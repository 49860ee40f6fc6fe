/**
 * Regenerates the committed client bindings of the project's modules from what each module describes
 * (`npm run bindings`), with devhost/codegen — the one generator, following `spacetime generate`.
 * `--check` fails instead of writing when a folder is out of date (CI).
 *
 * Visibility: the sync module's bindings keep private tables and reducers (`--include-private`),
 * because the adapter, running as the module owner, reads the private `source_cursor` table; the
 * other modules' bindings are the official default (public only).
 */
import { renderBindings, syncBindingsDir, type Visibility } from '@spacetime-sync/devhost';

export const BINDINGS: readonly { module: string; out: string; visibility: Visibility }[] = [
  { module: 'module/src/index.ts', out: 'module/bindings', visibility: 'includePrivate' },
  {
    module: 'devhost/testdata/test-module/index.ts',
    out: 'devhost/testdata/test-module-bindings',
    visibility: 'public',
  },
  // Equivalents of SpacetimeDB modules whose official bindings the drift test compares against.
  {
    module: 'devhost/testdata/official/chat/index.ts',
    out: 'devhost/testdata/official/chat/bindings',
    visibility: 'public',
  },
  {
    module: 'devhost/testdata/official/case-conversion/index.ts',
    out: 'devhost/testdata/official/case-conversion/bindings',
    visibility: 'public',
  },
];

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { module, out, visibility } of BINDINGS) {
    const changed = syncBindingsDir(out, await renderBindings(module, visibility), check);
    if (changed.length === 0) continue;
    if (check) {
      console.error(`${out} is out of date with ${module} (${changed.join(', ')}): run npm run bindings`);
      stale++;
    } else {
      console.log(`${out}: wrote ${changed.join(', ')}`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}
