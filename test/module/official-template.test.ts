/**
 * module/ is a SpacetimeDB TypeScript project the official CLI builds as it is. `spacetime build`
 * (SpacetimeDB v2.8.3, crates/cli/src/tasks/javascript.rs) reads exactly this from the folder: it runs
 * `node_modules/.bin/tsc --noEmit` there when present (else warns "tsc not found in node_modules"),
 * bundles `./src/index.ts` with rolldown and `./tsconfig.json` (missing: "Tsconfig not found"), and
 * requires the bundle to import `spacetime:sys@2.x` and export the schema as `default`. Each is
 * checked here, with the project's own TypeScript and the rolldown version the CLI links.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { officialBundle } from '../support/official-bundle.js';

const MODULE_DIR = 'module';
const readJson = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, string>>;
const root = readJson('package.json');
const modulePkg = readJson(`${MODULE_DIR}/package.json`);

describe('module/ as an official SpacetimeDB TypeScript project', () => {
  it('is an ESM package on the project’s pinned spacetimedb and TypeScript, with the template’s scripts', () => {
    expect(modulePkg.type).toBe('module');
    expect(modulePkg.dependencies).toEqual({ spacetimedb: root.dependencies?.spacetimedb });
    expect(modulePkg.devDependencies).toEqual({ typescript: root.devDependencies?.typescript });
    expect(modulePkg.scripts).toMatchObject({ build: 'spacetime build', publish: 'spacetime publish' });
    expect(existsSync(`${MODULE_DIR}/src/index.ts`)).toBe(true);
  });

  it('has a tsconfig with the options the template requires, covering the entry', () => {
    const file = ts.readConfigFile(`${MODULE_DIR}/tsconfig.json`, ts.sys.readFile);
    expect(file.error).toBeUndefined();
    const parsed = ts.parseJsonConfigFileContent(file.config, ts.sys, MODULE_DIR);
    expect(parsed.errors).toEqual([]);
    const o = parsed.options;
    expect(o.target).toBe(ts.ScriptTarget.ESNext);
    expect(o.module).toBe(ts.ModuleKind.ESNext);
    expect(o.moduleResolution).toBe(ts.ModuleResolutionKind.Bundler);
    expect(o.isolatedModules).toBe(true);
    expect(o.noEmit).toBe(true);
    expect(o.strict).toBe(true);
    expect(o.lib).toEqual(['lib.es2021.d.ts', 'lib.dom.d.ts']);
    expect(parsed.fileNames.map((f) => relative(MODULE_DIR, f))).toContain('src/index.ts');
  });

  it('type-checks with the project’s TypeScript, as `spacetime build` runs it in the folder', async () => {
    const tsc = new URL('../../node_modules/typescript/bin/tsc', import.meta.url).pathname;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [tsc, '--noEmit'], {
      cwd: MODULE_DIR,
    });
    expect(stdout + stderr).toBe('');
  }, 120_000);

  it('bundles with the official build’s rolldown options without a warning, importing spacetime:sys@2 and exporting the schema', async () => {
    const bundle = await officialBundle(MODULE_DIR);
    expect(bundle.logs.filter((l) => l.level !== 'debug')).toEqual([]);
    expect(bundle.exports).toContain('default');
    expect(bundle.imports.length).toBeGreaterThan(0);
    for (const spec of bundle.imports) expect(spec).toMatch(/^spacetime:sys@2\.\d+$/);
  }, 120_000);
});
