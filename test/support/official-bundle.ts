/**
 * Bundles a SpacetimeDB TypeScript module folder the way the official CLI's `spacetime build` does
 * (SpacetimeDB v2.8.3, `crates/cli/src/tasks/javascript.rs`): rolldown 1.0.0-rc.3 — the version the
 * CLI links — with its input, resolution, transform, checks and the folder's own `tsconfig.json`.
 * Every log rolldown emits is returned, so a caller can require a build without warnings.
 */
import { resolve } from 'node:path';
import { rolldown } from 'rolldown';

export interface OfficialBundle {
  /** Names the entry chunk exports (the CLI requires `default`: the schema). */
  readonly exports: readonly string[];
  /** Import specifiers left in the bundle (the host's `spacetime:sys@X.Y` modules). */
  readonly imports: readonly string[];
  readonly logs: readonly {
    readonly level: string;
    readonly code: string | undefined;
    readonly message: string;
  }[];
}

export async function officialBundle(moduleDir: string): Promise<OfficialBundle> {
  const cwd = resolve(moduleDir);
  const logs: { level: string; code: string | undefined; message: string }[] = [];
  const bundle = await rolldown({
    input: './src/index.ts',
    cwd,
    platform: 'browser',
    external: [/spacetime:sys.*/],
    shimMissingExports: false,
    resolve: {
      conditionNames: ['production', 'import', 'default'],
      mainFields: ['exports', 'module', 'main'],
      extensions: ['.ts', '.tsx', '.mjs', '.js', '.cjs', '.json'],
      symlinks: true,
    },
    treeshake: {
      moduleSideEffects: true,
      annotations: true,
      unknownGlobalSideEffects: true,
      propertyReadSideEffects: 'always',
      propertyWriteSideEffects: 'always',
    },
    transform: {
      target: 'esnext',
      define: { 'process.env.NODE_ENV': '"production"' },
      typescript: {
        onlyRemoveTypeImports: true,
        allowNamespaces: false,
        allowDeclareFields: true,
        removeClassFieldsWithoutInitializer: false,
        rewriteImportExtensions: true,
      },
    },
    checks: {
      circularDependency: true,
      eval: false,
      missingGlobalName: true,
      mixedExports: false,
      unresolvedEntry: true,
      unresolvedImport: true,
      filenameConflict: true,
      commonJsVariableInEsm: true,
      importIsUndefined: true,
      emptyImportMeta: true,
      cannotCallNamespace: true,
      configurationFieldConflict: true,
      preferBuiltinFeature: true,
    },
    tsconfig: resolve(cwd, 'tsconfig.json'),
    logLevel: 'debug',
    onLog: (level, log) => {
      logs.push({ level, code: log.code, message: log.message });
    },
  });
  try {
    const { output } = await bundle.generate({ format: 'esm', exports: 'named', sourcemap: 'inline' });
    const entry = output.find((c) => c.type === 'chunk' && c.isEntry);
    if (entry?.type !== 'chunk') throw new Error('rolldown produced no entry chunk');
    return { exports: entry.exports, imports: entry.imports, logs };
  } finally {
    await bundle.close();
  }
}
