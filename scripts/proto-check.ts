/**
 * Fails (exit 1, listing the files) when the committed generated code in proto/gen is not what
 * `buf generate` makes from the current .proto files. Generates into a temp dir and compares bytes.
 *
 *   node --import tsx scripts/proto-check.ts [--against <dir>]   (default: proto/gen)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT, runBuf } from './proto-buf.js';

/** Where buf.gen.yaml puts the generated code, relative to the repository root. */
const GEN_DIR = 'proto/gen';

export interface TreeDiff {
  /** Generated now but absent from the committed tree. */
  readonly missing: readonly string[];
  /** Present in both with different contents. */
  readonly changed: readonly string[];
  /** Committed but no longer generated (e.g. left over from a deleted .proto). */
  readonly extra: readonly string[];
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Compares two directory trees file by file, byte for byte. Paths are relative to each root. */
export function diffTrees(expectedDir: string, actualDir: string): TreeDiff {
  const expected = listFiles(expectedDir);
  const actual = new Set(listFiles(actualDir));
  const missing: string[] = [];
  const changed: string[] = [];
  for (const file of expected) {
    if (!actual.has(file)) missing.push(file);
    else if (!readFileSync(join(expectedDir, file)).equals(readFileSync(join(actualDir, file))))
      changed.push(file);
    actual.delete(file);
  }
  return { missing, changed, extra: [...actual].sort() };
}

export function isClean(diff: TreeDiff): boolean {
  return diff.missing.length + diff.changed.length + diff.extra.length === 0;
}

function main(): number {
  const { values } = parseArgs({ options: { against: { type: 'string' } } });
  const committed = resolve(REPO_ROOT, values.against ?? GEN_DIR);
  const out = mkdtempSync(join(tmpdir(), 'proto-check-'));
  try {
    // --output re-roots the plugin's `out`, so the fresh code lands in <out>/proto/gen.
    const gen = runBuf(['generate', '--output', out]);
    if (gen.status !== 0) {
      process.stderr.write(`proto:check: buf generate failed (exit ${gen.status})\n${gen.stderr}`);
      return 1;
    }
    const diff = diffTrees(join(out, GEN_DIR), committed);
    if (isClean(diff)) {
      console.log(`proto:check: ${relative(REPO_ROOT, committed) || '.'} is up to date`);
      return 0;
    }
    const lines = [
      ...diff.missing.map((f) => `  missing   ${f}`),
      ...diff.changed.map((f) => `  outdated  ${f}`),
      ...diff.extra.map((f) => `  stale     ${f} (no longer generated)`),
    ];
    process.stderr.write(
      `proto:check: generated code differs from the .proto files; run \`npm run proto:generate\` and commit:\n${lines.join('\n')}\n`,
    );
    return 1;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}
