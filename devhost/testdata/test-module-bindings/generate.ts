/**
 * Writes (or with `--check`, verifies) index.ts: devhost/codegen's bindings for the reference test
 * module, behind a header that keeps biome off generated code.
 * Run: `node --import tsx devhost/testdata/test-module-bindings/generate.ts [--check]`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderBindings } from '../../../scripts/generate-bindings.js';

const MODULE = 'devhost/testdata/test-module/index.ts';
export const OUT = new URL('./index.ts', import.meta.url);
const HEADER = [
  '// biome-ignore-all format: generated code, compared byte for byte with devhost/codegen output',
  '// biome-ignore-all lint: generated code',
  '// biome-ignore-all assist: generated code',
  '',
].join('\n');

export async function renderTestModuleBindings(): Promise<string> {
  return HEADER + (await renderBindings(MODULE));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const code = await renderTestModuleBindings();
  if (process.argv.includes('--check')) {
    if (readFileSync(OUT, 'utf8') !== code) {
      console.error(`${OUT.pathname} is out of date: run without --check`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(OUT, code);
  }
}
