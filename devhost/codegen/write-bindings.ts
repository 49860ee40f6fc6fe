/**
 * The one bindings generator of the project: describes a module entry, generates its bindings folder,
 * and writes it (or, checking, reports what differs). Used by `npm run bindings` and
 * `spacetime-sync devhost generate`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { describeModule } from './describe-module.js';
import { type BindingsFile, GENERATED_MARK, generateBindings, type Visibility } from './generate-bindings.js';

/** The installed `spacetimedb` SDK version (the package does not export its package.json). */
export function installedSdkVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('spacetimedb'));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const parsed = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'spacetimedb' && parsed.version) return parsed.version;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the installed spacetimedb package.json');
    dir = up;
  }
}

export async function renderBindings(entry: string, visibility: Visibility): Promise<BindingsFile[]> {
  return generateBindings(await describeModule(entry), {
    source: entry,
    sdkVersion: installedSdkVersion(),
    visibility,
  });
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'));
}

/**
 * Makes `outDir` hold exactly `files` (besides files the generator did not write). With `check`, changes nothing and returns the paths that are
 * missing, different or left over; otherwise writes and removes, returning the paths it touched.
 */
export function syncBindingsDir(outDir: string, files: readonly BindingsFile[], check: boolean): string[] {
  const wanted = new Map(files.map((f) => [f.path, f.code]));
  const changed: string[] = [];
  for (const [path, code] of wanted) {
    const full = join(outDir, path);
    if (existsSync(full) && readFileSync(full, 'utf8') === code) continue;
    changed.push(path);
    if (check) continue;
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, code);
  }
  // Only files this generator wrote are removed: the folder may hold the user's own files too.
  for (const path of listFiles(outDir)) {
    if (wanted.has(path) || !readFileSync(join(outDir, path), 'utf8').startsWith(GENERATED_MARK)) continue;
    changed.push(path);
    if (!check) rmSync(join(outDir, path));
  }
  return changed.sort();
}
