/**
 * The per-table, per-reducer and shared type files of the bindings, in the official codegen's layout:
 * `<table>_table.ts` (the row, camelCase fields carrying their wire names), `<reducer>_reducer.ts`
 * (the arguments), `types.ts` (named types), `types/reducers.ts` and `types/procedures.ts`.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { BindingsModel, ReducerModel, TableModel } from './model.js';
import { camelCase, pascalCase, propertyKey, snakeCase } from './naming.js';
import { refersToNamedType, type TypeContext, typeBuilder } from './type-builders.js';

export interface BindingsFile {
  /** Path inside the bindings folder, `/`-separated. */
  readonly path: string;
  readonly code: string;
}

export const tableFileStem = (t: TableModel): string => `${snakeCase(t.accessor)}_table`;
export const rowImportName = (t: TableModel): string => `${pascalCase(t.accessor)}Row`;
export const reducerFileStem = (r: ReducerModel): string => `${snakeCase(r.accessor)}_reducer`;
export const reducerImportName = (r: ReducerModel): string => `${pascalCase(r.accessor)}Reducer`;

/** One object-literal member: a getter when it names a types.ts type (read lazily), else a property. */
function member(key: string, ty: AlgebraicTypeType, ctx: TypeContext, suffix = ''): string[] {
  const expr = typeBuilder(ty, ctx) + suffix;
  if (refersToNamedType(ty, ctx)) return [`  get ${propertyKey(key)}() {`, `    return ${expr};`, '  },'];
  return [`  ${propertyKey(key)}: ${expr},`];
}

function typeImports(used: ReadonlySet<string>, from: string): string[] {
  if (used.size === 0) return [];
  return [`import { ${[...used].sort().join(', ')} } from '${from}';`];
}

const T_IMPORTS = "import { type Infer as __Infer, t as __t } from 'spacetimedb';";

function context(model: BindingsModel): TypeContext {
  return { typespace: model.typespace, typeNames: model.typeNames, used: new Set() };
}

export function tableFile(model: BindingsModel, table: TableModel, header: string): BindingsFile {
  const ctx = context(model);
  const fields = table.columns.flatMap((c) => {
    const key = camelCase(c.sourceName);
    let suffix = table.primaryKey === c.colId ? '.primaryKey()' : '';
    if (c.name !== key) suffix += `.name(${JSON.stringify(c.name)})`;
    return member(key, c.type, ctx, suffix);
  });
  const code = [
    header,
    "import { t as __t } from 'spacetimedb';",
    ...typeImports(ctx.used, './types.js'),
    '',
    'export default __t.row({',
    ...fields,
    '});',
    '',
  ];
  return { path: `${tableFileStem(table)}.ts`, code: code.join('\n') };
}

export function reducerFile(model: BindingsModel, reducer: ReducerModel, header: string): BindingsFile {
  const ctx = context(model);
  const fields = reducer.params.flatMap((p) => member(camelCase(p.name), p.type, ctx));
  const code = [
    header,
    "import { t as __t } from 'spacetimedb';",
    ...typeImports(ctx.used, './types.js'),
    '',
    fields.length === 0 ? 'export default {};' : ['export default {', ...fields, '};'].join('\n'),
    '',
  ];
  return { path: `${reducerFileStem(reducer)}.ts`, code: code.join('\n') };
}

export function typesFile(model: BindingsModel, header: string): BindingsFile {
  const ctx = context(model);
  const out = [header, T_IMPORTS, ''];
  for (const { name, type } of model.types) {
    if (type.tag === 'Product') {
      const fields = type.value.elements.flatMap((e) =>
        member(camelCase(e.name ?? ''), e.algebraicType, ctx),
      );
      out.push(`export const ${name} = __t.object(${JSON.stringify(name)}, {`, ...fields, '});');
    } else if (type.tag === 'Sum') {
      const variants = type.value.variants.flatMap((v) =>
        member(pascalCase(v.name ?? ''), v.algebraicType, ctx),
      );
      out.push(`export const ${name} = __t.enum(${JSON.stringify(name)}, {`, ...variants, '});');
    } else {
      out.push(`export const ${name} = ${typeBuilder(type, ctx)};`);
    }
    out.push(`export type ${name} = __Infer<typeof ${name}>;`, '');
  }
  return { path: 'types.ts', code: out.join('\n') };
}

export function reducerTypesFile(model: BindingsModel, header: string): BindingsFile {
  const imports = model.reducers.map(
    (r) => `import ${reducerImportName(r)} from '../${reducerFileStem(r)}.js';`,
  );
  const types = model.reducers.map(
    (r) => `export type ${pascalCase(r.accessor)}Params = __Infer<typeof ${reducerImportName(r)}>;`,
  );
  const code = [
    header,
    "import type { Infer as __Infer } from 'spacetimedb';",
    '',
    ...imports,
    '',
    ...types,
    '',
  ];
  return { path: 'types/reducers.ts', code: code.join('\n') };
}

/** Procedures are not part of devhost's module support; the file exists so the layout is the official one. */
export function procedureTypesFile(header: string): BindingsFile {
  return { path: 'types/procedures.ts', code: [header, 'export {};', ''].join('\n') };
}
