/**
 * Scratch directories for fuzz targets that write a data directory per case. A long run writes a
 * million of them, so they go to a memory-backed file system when the machine has one (`/dev/shm`
 * on Linux), where the fsyncs the code under test does on purpose cost nothing; elsewhere to the
 * temp dir. What is tested is unchanged: the same files through the same `node:fs` calls.
 */
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const MEMORY_FS = '/dev/shm';

function base(): string {
  try {
    accessSync(MEMORY_FS, constants.W_OK);
    return MEMORY_FS;
  } catch {
    return tmpdir();
  }
}

export function scratchDir(prefix: string): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(base(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Every file under `root` (path relative to it → bytes); directories as `path/` → empty. */
export function readTree(root: string): Map<string, Uint8Array> {
  const tree = new Map<string, Uint8Array>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path);
      if (entry.isDirectory()) {
        tree.set(`${rel}/`, new Uint8Array());
        walk(path);
      } else tree.set(rel, new Uint8Array(readFileSync(path)));
    }
  };
  walk(root);
  return tree;
}
