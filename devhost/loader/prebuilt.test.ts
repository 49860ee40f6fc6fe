import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDevhost } from '../start-devhost.js';
import { bundleModule } from './bundle.js';
import { readPrebuiltBundle, writePrebuiltBundle } from './prebuilt.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A module with a `note` table, plus any extra table names given. */
function moduleSource(extraTables: readonly string[] = []): string {
  const tables = ['note', ...extraTables];
  return [
    "import { schema, t, table } from 'spacetimedb/server';",
    ...tables.map((n) => `const ${n} = table({ name: '${n}', public: true }, { id: t.u64().primaryKey() });`),
    `const spacetimedb = schema({ ${tables.join(', ')} });`,
    'export default spacetimedb;',
    'export const add = spacetimedb.reducer({ id: t.u64() }, (ctx, { id }) => { ctx.db.note.insert({ id }); });',
  ].join('\n');
}

let dir: string;
let entry: string;
let manifest: string;

beforeEach(() => {
  // The module's `spacetimedb/server` resolves through the repository's node_modules.
  dir = mkdtempSync(join(tmpdir(), 'prebuilt-'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  entry = join(dir, 'index.ts');
  writeFileSync(entry, moduleSource());
  // writePrebuiltBundle writes into an existing folder, as the build does into dist/.
  mkdirSync(join(dir, 'out'));
  manifest = join(dir, 'out', 'module.bundle.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const prebuild = () => writePrebuiltBundle(entry, manifest);

describe('prebuilt module bundle', () => {
  it('is byte for byte what devhost bundles, and used while the sources match', async () => {
    await prebuild();
    const read = readPrebuiltBundle(manifest, entry);
    expect(read.kind).toBe('fresh');
    expect(read.kind === 'fresh' && read.code).toBe(await bundleModule(entry));
  });

  it('is stale once a source changes, and a start then hosts the changed module', async () => {
    await prebuild();
    writeFileSync(entry, moduleSource(['added']));
    const read = readPrebuiltBundle(manifest, entry);
    expect(read).toEqual({ kind: 'stale', why: 'module sources changed since the bundle was built' });

    const warnings: string[] = [];
    const host = await startDevhost({
      databases: [{ name: 'm', moduleEntry: entry, prebuilt: manifest }],
      log: (level, message) => {
        if (level === 'warn') warnings.push(message);
      },
    });
    try {
      const tables = host.databases.get('m')?.schema.tables.map((t) => t.name);
      expect(tables).toContain('added');
      expect(warnings).toEqual([
        '[m] bundling the module now: module sources changed since the bundle was built',
      ]);
    } finally {
      await host.stop();
    }
  });

  it('is stale when the manifest hash or the bundle file does not match', async () => {
    await prebuild();
    const original = readFileSync(manifest, 'utf8');
    const faked = JSON.parse(original) as { inputsHash: string };
    writeFileSync(manifest, JSON.stringify({ ...faked, inputsHash: '0'.repeat(64) }));
    expect(readPrebuiltBundle(manifest, entry).kind).toBe('stale');

    writeFileSync(manifest, original);
    const bundlePath = manifest.replace(/\.json$/, '.js');
    writeFileSync(bundlePath, `${readFileSync(bundlePath, 'utf8')}\n;globalThis.tampered = 1;`);
    expect(readPrebuiltBundle(manifest, entry)).toEqual({
      kind: 'stale',
      why: 'prebuilt bundle file changed',
    });
  });

  it('is of one entry only, and absent when none was built', async () => {
    expect(readPrebuiltBundle(manifest, entry)).toEqual({ kind: 'absent' });
    await prebuild();
    const other = join(dir, 'other.ts');
    writeFileSync(other, moduleSource());
    expect(readPrebuiltBundle(manifest, other).kind).toBe('stale');
  });
});
