/**
 * Who may import whom, read off the source: the service (adapter/) never reaches into the desktop
 * client nor into the module's private files, and shared/ depends on neither side. Shared pieces
 * (error contract, backoff, websocket factory, payload hash) live in shared/ so both can use them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.includes('node_modules'))
    .map((f) => join(dir, f));
}

/** Every relative import of a file, as a path from the repository root. */
function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) =>
    relative(ROOT, resolve(ROOT, file, '..', m[1] as string)),
  );
}

function offending(dirs: readonly string[], forbidden: (target: string) => boolean): string[] {
  return dirs.flatMap((d) =>
    sources(d).flatMap((f) =>
      imports(f)
        .filter(forbidden)
        .map((t) => `${f} → ${t}`),
    ),
  );
}

describe('import directions', () => {
  it('the adapter imports neither the desktop client nor private module files', () => {
    // errors.js and cutover-machine.js are the module's public, dependency-free files.
    const PUBLIC = new Set(['module/src/errors.js', 'module/src/cutover-machine.js']);
    const privateModule = (t: string) => t.startsWith('module/src/') && !PUBLIC.has(t);
    expect(offending(['adapter'], (t) => t.startsWith('client/') || privateModule(t))).toEqual([]);
  });

  it('shared code imports neither the adapter nor the client', () => {
    expect(offending(['shared'], (t) => t.startsWith('adapter/') || t.startsWith('client/'))).toEqual([]);
  });
});
