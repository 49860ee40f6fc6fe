/**
 * index.ts of the bindings — the API a client programs against, as `spacetime generate --lang
 * typescript` writes it: `tables` (query builders) and `conn.db` handles keyed by the camelCase of
 * each table's accessor, each table's canonical name, every index and unique constraint; `reducers`
 * keyed by the SDK's camelCase of the canonical reducer name; typed contexts and `DbConnection`.
 * A table whose accessor is not already camelCase (`sync_event`) also answers to that accessor as a
 * deprecated alias, as the official output does.
 */

import {
  type BindingsFile,
  reducerFileStem,
  reducerImportName,
  rowImportName,
  tableFileStem,
} from './emit-parts.js';
import type { BindingsModel, TableModel } from './model.js';
import { camelCase } from './naming.js';

const q = (s: string): string => JSON.stringify(s);

const IMPORTS = `import {
  DbConnectionBuilder as __DbConnectionBuilder,
  DbConnectionImpl as __DbConnectionImpl,
  SubscriptionBuilderImpl as __SubscriptionBuilderImpl,
  convertToAccessorMap as __convertToAccessorMap,
  makeQueryBuilder as __makeQueryBuilder,
  procedures as __procedures,
  reducerSchema as __reducerSchema,
  reducers as __reducers,
  schema as __schema,
  table as __table,
  type DbConnectionConfig as __DbConnectionConfig,
  type ErrorContextInterface as __ErrorContextInterface,
  type EventContextInterface as __EventContextInterface,
  type QueryBuilder as __QueryBuilder,
  type ReducerEventContextInterface as __ReducerEventContextInterface,
  type RemoteModule as __RemoteModule,
  type SubscriptionEventContextInterface as __SubscriptionEventContextInterface,
  type SubscriptionHandleImpl as __SubscriptionHandleImpl,
} from 'spacetimedb';`;

function tableEntry(t: TableModel): string[] {
  const cols = (cs: readonly { sourceName: string }[]) =>
    cs.map((c) => q(camelCase(c.sourceName))).join(', ');
  return [
    `  ${camelCase(t.accessor)}: __table(`,
    '    {',
    `      name: ${q(t.name)},`,
    '      indexes: [',
    ...t.indexes.map(
      (ix) =>
        `        { accessor: ${q(ix.accessor)}, name: ${q(ix.name)}, algorithm: 'btree', columns: [${cols(ix.columns)}] },`,
    ),
    '      ],',
    '      constraints: [',
    ...t.constraints.map(
      (c) => `        { name: ${q(c.name)}, constraint: 'unique', columns: [${cols(c.columns)}] },`,
    ),
    '      ],',
    ...(t.isEvent ? ['      event: true,'] : []),
    '    },',
    `    ${rowImportName(t)},`,
    '  ),',
  ];
}

/** [deprecated accessor, camelCase accessor] for tables whose accessor is not camelCase already. */
function accessorAliases(tables: readonly TableModel[]): [string, string][] {
  const handles = new Set(tables.map((t) => camelCase(t.accessor)));
  return tables
    .filter((t) => t.accessor !== camelCase(t.accessor) && !handles.has(t.accessor))
    .map((t) => [t.accessor, camelCase(t.accessor)]);
}

function aliasMembers(
  aliases: [string, string][],
  type: (target: string, alias: string) => string,
): string[] {
  return aliases.flatMap(([alias, target]) => [
    `  /** @deprecated Use \`${target}\` instead (the official bindings keep this alias until their next major version). */`,
    `  readonly ${q(alias)}: ${type(target, alias)};`,
  ]);
}

export function indexFile(model: BindingsModel, header: string, cliVersion: string): BindingsFile {
  const invokable = model.reducers.filter((r) => r.invokable);
  const aliases = accessorAliases(model.tables);
  const out = [
    header,
    IMPORTS,
    '',
    ...invokable.map((r) => `import ${reducerImportName(r)} from './${reducerFileStem(r)}.js';`),
    ...model.tables.map((t) => `import ${rowImportName(t)} from './${tableFileStem(t)}.js';`),
    '',
    '/** Every table of the module, declared as the module declares it (canonical names, indexes, constraints). */',
    'const tablesSchema = __schema({',
    ...model.tables.flatMap(tableEntry),
    '});',
    '',
    '/** Every reducer a client may call, by canonical name, with its argument types. */',
    'const reducersSchema = __reducers(',
    ...invokable.map((r) => `  __reducerSchema(${q(r.name)}, ${reducerImportName(r)}),`),
    ');',
    '',
    'const proceduresSchema = __procedures();',
    '',
  ];
  const tablesType =
    aliases.length > 0 ? '__SchemaWithTableAccessorAliases' : 'typeof tablesSchema.schemaType';
  if (aliases.length > 0) {
    out.push(
      'type __SchemaWithTableAccessorAliases = Omit<typeof tablesSchema.schemaType, "tables"> & {',
      '  tables: typeof tablesSchema.schemaType.tables & {',
      ...aliasMembers(
        aliases,
        (target, alias) =>
          `Omit<typeof tablesSchema.schemaType.tables[${q(target)}], "accessorName"> & { readonly accessorName: ${q(alias)} }`,
      ).map((l) => `  ${l}`),
      '  };',
      '};',
      '',
    );
  }
  out.push(
    '/** The module as the SDK sees it: tables, reducers and type information. */',
    'const REMOTE_MODULE = {',
    `  versionInfo: { cliVersion: ${q(cliVersion)} as const },`,
    `  tables: tablesSchema.schemaType.tables${aliases.length > 0 ? ' as __SchemaWithTableAccessorAliases["tables"]' : ''},`,
    '  reducers: reducersSchema.reducersType.reducers,',
    '  ...proceduresSchema,',
    `} satisfies __RemoteModule<${tablesType}, typeof reducersSchema.reducersType, typeof proceduresSchema>;`,
    '',
  );
  out.push(...(aliases.length > 0 ? aliasedExports(aliases) : plainExports()));
  out.push(...connectionClasses(aliases.length > 0));
  return { path: 'index.ts', code: out.join('\n') };
}

function plainExports(): string[] {
  return [
    '/** Query builders, one per table: `tables.syncEvent.where((r) => r.seq.gt(10n))`. */',
    'export const tables: __QueryBuilder<typeof tablesSchema.schemaType> = __makeQueryBuilder(tablesSchema.schemaType);',
    'export const reducers = __convertToAccessorMap(reducersSchema.reducersType.reducers);',
    'export const procedures = __convertToAccessorMap(proceduresSchema.procedures);',
    '',
    'export type EventContext = __EventContextInterface<typeof REMOTE_MODULE>;',
    'export type ReducerEventContext = __ReducerEventContextInterface<typeof REMOTE_MODULE>;',
    'export type SubscriptionEventContext = __SubscriptionEventContextInterface<typeof REMOTE_MODULE>;',
    'export type ErrorContext = __ErrorContextInterface<typeof REMOTE_MODULE>;',
  ];
}

function aliasedExports(aliases: [string, string][]): string[] {
  return [
    `const tableAccessorAliases = { ${aliases.map(([a, t]) => `${q(a)}: ${q(t)}`).join(', ')} } as const;`,
    '',
    '/** A copy of `target` that also answers to each deprecated accessor with the camelCase handle. */',
    'function __withTableAccessorAliases<T extends object>(target: T, freeze = false): T {',
    '  const out = Object.create(Object.getPrototypeOf(target)) as T & Record<string, unknown>;',
    '  Object.defineProperties(out, Object.getOwnPropertyDescriptors(target));',
    '  for (const [alias, handle] of Object.entries(tableAccessorAliases)) {',
    '    if (alias in out) continue;',
    '    Object.defineProperty(out, alias, { enumerable: true, configurable: false, get: () => out[handle] });',
    '  }',
    '  return freeze ? Object.freeze(out) : out;',
    '}',
    '',
    'type __DbViewBase = __DbConnectionImpl<typeof REMOTE_MODULE>["db"];',
    'export type DbView = __DbViewBase & {',
    ...aliasMembers(aliases, (target) => `__DbViewBase[${q(target)}]`),
    '};',
    '',
    'type __TablesBase = __QueryBuilder<typeof tablesSchema.schemaType>;',
    'export type Tables = __TablesBase & {',
    ...aliasMembers(aliases, (target) => `__TablesBase[${q(target)}]`),
    '};',
    '',
    '/** Query builders, one per table: `tables.syncEvent.where((r) => r.seq.gt(10n))`. */',
    'const tablesBase: __TablesBase = __makeQueryBuilder(tablesSchema.schemaType);',
    'export const tables: Tables = __withTableAccessorAliases(tablesBase, true) as Tables;',
    'export const reducers = __convertToAccessorMap(reducersSchema.reducersType.reducers);',
    'export const procedures = __convertToAccessorMap(proceduresSchema.procedures);',
    '',
    'export type EventContext = Omit<__EventContextInterface<typeof REMOTE_MODULE>, "db"> & { db: DbView };',
    'export type ReducerEventContext = Omit<__ReducerEventContextInterface<typeof REMOTE_MODULE>, "db"> & { db: DbView };',
    'export type SubscriptionEventContext = Omit<__SubscriptionEventContextInterface<typeof REMOTE_MODULE>, "db"> & { db: DbView };',
    'export type ErrorContext = Omit<__ErrorContextInterface<typeof REMOTE_MODULE>, "db"> & { db: DbView };',
  ];
}

function connectionClasses(withAliases: boolean): string[] {
  return [
    'export type SubscriptionHandle = __SubscriptionHandleImpl<typeof REMOTE_MODULE>;',
    '',
    'export class SubscriptionBuilder extends __SubscriptionBuilderImpl<typeof REMOTE_MODULE> {}',
    '',
    'export class DbConnectionBuilder extends __DbConnectionBuilder<DbConnection> {}',
    '',
    'export class DbConnection extends __DbConnectionImpl<typeof REMOTE_MODULE> {',
    ...(withAliases
      ? [
          '  declare db: DbView;',
          '',
          '  constructor(config: __DbConnectionConfig<typeof REMOTE_MODULE>) {',
          '    super(config);',
          '    this.db = __withTableAccessorAliases(this.db) as DbView;',
          '  }',
          '',
        ]
      : []),
    '  static builder = (): DbConnectionBuilder =>',
    '    new DbConnectionBuilder(REMOTE_MODULE, (config: __DbConnectionConfig<typeof REMOTE_MODULE>) => new DbConnection(config));',
    '',
    '  override subscriptionBuilder = (): SubscriptionBuilder => new SubscriptionBuilder(this);',
    '}',
    '',
  ];
}
