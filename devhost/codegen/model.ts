/**
 * What the official TypeScript codegen reads from a module definition, in its terms: tables by
 * canonical name with their accessor (the schema key), every index and unique constraint, the named
 * types, and the reducers a client may see. Visibility follows `spacetime generate`: by default only
 * public tables and client-callable reducers; `includePrivate` (`--include-private`) keeps private
 * tables and private (scheduled) reducers. `init` is never generated; other lifecycle reducers only
 * get argument files, never a handle.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { ColumnSchema, TableSchema, Typespace } from '../contract.js';
import { buildModuleSchema, decodeModuleDef, type ModuleDefV10 } from '../schema/index.js';
import { pascalCase } from './naming.js';

export type Visibility = 'public' | 'includePrivate';

export interface IndexModel {
  readonly accessor: string;
  /** Canonical index name. */
  readonly name: string;
  readonly columns: readonly ColumnSchema[];
}

export interface TableModel {
  /** The schema key in the module source (`sync_event`); the handle is its camelCase. */
  readonly accessor: string;
  /** Canonical (wire/SQL) name. */
  readonly name: string;
  readonly isEvent: boolean;
  readonly columns: readonly ColumnSchema[];
  readonly primaryKey: number | undefined;
  /** Sorted by name, as the official codegen writes them. */
  readonly indexes: readonly IndexModel[];
  readonly constraints: readonly { readonly name: string; readonly columns: readonly ColumnSchema[] }[];
}

export interface ReducerModel {
  /** Name in the module source; file and type names derive from it. */
  readonly accessor: string;
  /** Canonical name the wire carries (`CallReducer.reducer`). */
  readonly name: string;
  readonly params: readonly { readonly name: string; readonly type: AlgebraicTypeType }[];
  /** Lifecycle reducers get an argument file but no handle. */
  readonly invokable: boolean;
}

export interface BindingsModel {
  readonly typespace: Typespace;
  /** Typespace ref → generated type name (PascalCase). */
  readonly typeNames: ReadonlyMap<number, string>;
  /** Named types written to types.ts, sorted by name (reducer argument structs left out). */
  readonly types: readonly { readonly name: string; readonly type: AlgebraicTypeType }[];
  readonly tables: readonly TableModel[];
  readonly reducers: readonly ReducerModel[];
}

const byName = <T extends { readonly name: string }>(a: T, b: T): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export function buildBindingsModel(describeBytes: Uint8Array, visibility: Visibility): BindingsModel {
  const def: ModuleDefV10 = decodeModuleDef(describeBytes);
  const schema = buildModuleSchema(def);
  const typespace: Typespace = { types: def.typespace.types as readonly AlgebraicTypeType[] };
  const keepPrivate = visibility === 'includePrivate';

  const rawBySource = new Map(def.tables.map((t) => [t.sourceName, t]));
  const tables = schema.tables
    .filter((t) => keepPrivate || t.isPublic)
    .map((t) =>
      tableModel(
        t,
        rawBySource.get(t.sourceName)?.indexes.map((ix) => ix.accessorName) ?? [],
        schema.uniqueConstraints.get(t.tableId) ?? [],
      ),
    );
  tables.sort(byName);

  const reducers: ReducerModel[] = schema.reducers
    .filter((r) => r.lifecycle !== 'init' && (keepPrivate || r.clientCallable))
    .map((r) => ({
      accessor: r.sourceName,
      name: r.name,
      params: (r.params.tag === 'Product' ? r.params.value.elements : []).map((e) => ({
        name: e.name ?? '',
        type: e.algebraicType,
      })),
      invokable: r.lifecycle === undefined,
    }));

  const typeNames = new Map([...def.typeNames].map(([ref, name]) => [ref, pascalCase(name)]));
  const reducerTypeNames = new Set(schema.reducers.map((r) => pascalCase(r.sourceName)));
  const types = [...typeNames]
    .filter(([, name]) => !reducerTypeNames.has(name))
    .map(([ref, name]) => ({ name, type: typespace.types[ref] ?? danglingRef(ref) }))
    .sort(byName);

  return { typespace, typeNames, types, tables, reducers };
}

/**
 * `accessors` are the raw index accessor names, in the order devhost's schema keeps the indexes.
 * Constraint names are always generated (`{table}_{columns}_key`, canonical names), as the host does.
 */
function tableModel(
  table: TableSchema,
  accessors: readonly (string | undefined)[],
  unique: readonly (readonly number[])[],
): TableModel {
  const cols = (ids: readonly number[]): ColumnSchema[] =>
    ids.map((c) => table.columns[c] ?? missingColumn(table, c));
  const constraints = unique
    .map((ids) => ({
      name: `${table.name}_${cols(ids)
        .map((c) => c.name)
        .join('_')}_key`,
      columns: cols(ids),
    }))
    .sort(byName);
  const indexes = table.indexes
    .map((ix, i) => ({ accessor: accessors[i] ?? ix.name, name: ix.name, columns: cols(ix.columns) }))
    .sort(byName);
  return {
    accessor: table.sourceName,
    name: table.name,
    isEvent: table.isEvent,
    columns: table.columns,
    primaryKey: table.primaryKey.length === 1 ? table.primaryKey[0] : undefined,
    indexes,
    constraints,
  };
}

function danglingRef(ref: number): never {
  throw new Error(`named type ${ref} is not in the typespace`);
}

function missingColumn(table: TableSchema, col: number): never {
  throw new Error(`table ${table.name}: column ${col} does not exist`);
}
