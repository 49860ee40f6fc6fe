/**
 * Regenerates the committed client bindings of the project's modules from what each module describes
 * (`npm run bindings`). `--check` fails instead of writing when a file is out of date (CI).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describeModule, generateBindings } from '@spacetime-sync/devhost';

export const BINDINGS = [{ module: 'module/src/index.ts', out: 'module/bindings/index.ts' }] as const;

// The package does not export its package.json; read the pinned version from the installed copy.
const sdkVersion = (
  JSON.parse(readFileSync(new URL('../node_modules/spacetimedb/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export async function renderBindings(entry: string): Promise<string> {
  return generateBindings(await describeModule(entry), { source: entry, sdkVersion });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { module, out } of BINDINGS) {
    const code = await renderBindings(module);
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {}
    if (current === code) continue;
    if (check) {
      console.error(`${out} is out of date with ${module}: run npm run bindings`);
      stale++;
    } else {
      writeFileSync(out, code);
      console.log(`wrote ${out}`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}
