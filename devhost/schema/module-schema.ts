/**
 * Builds the contract's `ModuleSchema` from a decoded V10 definition, applying SpacetimeDB's naming
 * (host spec §1.6) and id assignment (§1.7). Validation is limited to what the host needs to run.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type {
  ColumnSchema,
  IndexAlgorithm,
  IndexSchema,
  LifecycleKind,
  ModuleSchema,
  ReducerSchema,
  TableSchema,
  Typespace,
} from '../contract.js';
import type { RawTableDefV10 } from '../stdb-internal/module-def.js';
import { toSnakeCase } from './case-conversion.js';
import { FIRST_USER_ID } from './ids.js';
import type { ModuleDefV10 } from './module-def.js';

/** The contract's schema plus what only the host needs. */
export interface HostModuleSchema extends ModuleSchema {
  /** Unique constraints per table id (column sets), including the primary key's. */
  readonly uniqueConstraints: ReadonlyMap<number, readonly (readonly number[])[]>;
  /** Init / connect / disconnect reducers by lifecycle kind. */
  readonly lifecycle: ReadonlyMap<LifecycleKind, ReducerSchema>;
  tableById(tableId: number): TableSchema | undefined;
}

const LIFECYCLE: Record<string, LifecycleKind> = {
  Init: 'init',
  OnConnect: 'clientConnected',
  OnDisconnect: 'clientDisconnected',
};

/** Resolves `Ref`s at the top of a type (row types are usually refs into the typespace). */
export function resolveType(ty: AlgebraicTypeType, typespace: Typespace): AlgebraicTypeType {
  let current = ty;
  for (let hops = 0; current.tag === 'Ref'; hops++) {
    const next = typespace.types[current.value];
    if (!next || hops > typespace.types.length) throw new Error(`dangling type ref ${current.value}`);
    current = next;
  }
  return current;
}

function sameColumns(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

export function buildModuleSchema(def: ModuleDefV10): HostModuleSchema {
  const typespace: Typespace = { types: def.typespace.types as readonly AlgebraicTypeType[] };
  const convert = (name: string) => (def.snakeCase ? toSnakeCase(name) : name);
  const explicit = (kind: string, source: string) => def.explicitNames.get(kind)?.get(source);

  // Reducers: id = section order (spec §1.5); lifecycle and scheduled ones are private (§1.7.5).
  const lifecycleByFn = new Map(def.lifecycle.map((l) => [l.functionName, LIFECYCLE[l.lifecycleSpec.tag]]));
  const scheduledFns = new Set(def.schedules.map((s) => s.functionName));
  const reducers: ReducerSchema[] = def.reducers.map((r, reducerId) => {
    const lifecycle = lifecycleByFn.get(r.sourceName);
    return {
      reducerId,
      name: explicit('Function', r.sourceName) ?? convert(r.sourceName),
      sourceName: r.sourceName,
      params: { tag: 'Product', value: r.params } as AlgebraicTypeType,
      ...(lifecycle ? { lifecycle } : {}),
      clientCallable: r.visibility.tag === 'ClientCallable' && !lifecycle && !scheduledFns.has(r.sourceName),
    };
  });
  const reducerBySource = new Map(reducers.map((r) => [r.sourceName, r]));

  const named = def.tables.map((t) => ({
    raw: t,
    name: explicit('Table', t.sourceName) ?? convert(t.sourceName),
  }));
  named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let nextIndexId = FIRST_USER_ID;
  const uniqueConstraints = new Map<number, number[][]>();
  const tables: TableSchema[] = named.map(({ raw, name }, i) => {
    const tableId = FIRST_USER_ID + i;
    const built = buildTable(raw, name, tableId, typespace, convert, explicit, () => nextIndexId++);
    uniqueConstraints.set(tableId, built.unique);
    const schedule = def.schedules.find((s) => s.tableName === raw.sourceName);
    if (!schedule) return built.table;
    const reducer = reducerBySource.get(schedule.functionName);
    const idCol = raw.primaryKey[0];
    if (!reducer || idCol === undefined)
      throw new Error(`schedule table ${name} lacks its reducer or primary key`);
    return {
      ...built.table,
      schedule: { reducer: reducer.name, scheduleAtCol: schedule.scheduleAtCol, idCol },
    };
  });

  const tableByName = new Map<string, TableSchema>();
  for (const t of tables) tableByName.set(t.sourceName, t);
  for (const t of tables) tableByName.set(t.name, t); // canonical wins over an alias
  const tableById = new Map(tables.map((t) => [t.tableId, t]));
  const reducerByName = new Map(reducers.map((r) => [r.name, r]));
  const lifecycle = new Map<LifecycleKind, ReducerSchema>();
  for (const r of reducers) if (r.lifecycle) lifecycle.set(r.lifecycle, r);

  return {
    typespace,
    tables,
    reducers,
    rowLevelSecurity: def.rowLevelSecurity,
    uniqueConstraints,
    lifecycle,
    tableByName: (n) => tableByName.get(n),
    tableById: (id) => tableById.get(id),
    reducerByName: (n) => reducerByName.get(n),
  };
}

function buildTable(
  raw: RawTableDefV10,
  name: string,
  tableId: number,
  typespace: Typespace,
  convert: (s: string) => string,
  explicit: (kind: string, source: string) => string | undefined,
  nextIndexId: () => number,
): { table: TableSchema; unique: number[][] } {
  const rowType = resolveType(typespace.types[raw.productTypeRef] ?? missing(raw), typespace);
  if (rowType.tag !== 'Product') throw new Error(`table ${name}: row type is not a product`);
  const columns: ColumnSchema[] = rowType.value.elements.map((el, colId) => {
    const sourceName = el.name ?? `${colId}`;
    return { colId, name: convert(sourceName), sourceName, type: el.algebraicType };
  });
  const unique = raw.constraints.filter((c) => c.data.tag === 'Unique').map((c) => [...c.data.value.columns]);
  if (raw.primaryKey.length > 0 && !unique.some((u) => sameColumns(u, raw.primaryKey)))
    unique.push([...raw.primaryKey]);
  const indexes: IndexSchema[] = raw.indexes.map((ix) => {
    const algorithm: IndexAlgorithm =
      ix.algorithm.tag === 'BTree' ? 'btree' : ix.algorithm.tag === 'Hash' ? 'hash' : 'direct';
    const cols = ix.algorithm.tag === 'Direct' ? [ix.algorithm.value] : [...ix.algorithm.value];
    const autoName = `${name}_${cols.map((c) => columns[c]?.name ?? c).join('_')}_idx_${algorithm}`;
    const sourceName = ix.sourceName ?? autoName;
    return {
      indexId: nextIndexId(),
      name: explicit('Index', sourceName) ?? autoName,
      sourceName,
      algorithm,
      columns: cols,
      unique: unique.some((u) => sameColumns(u, cols)),
    };
  });
  const table: TableSchema = {
    tableId,
    name,
    sourceName: raw.sourceName,
    isPublic: raw.tableAccess.tag === 'Public',
    isEvent: raw.isEvent,
    rowType,
    columns,
    primaryKey: [...raw.primaryKey],
    indexes,
    sequenceColumns: raw.sequences.map((s) => s.column).sort((a, b) => a - b),
  };
  return { table, unique };
}

function missing(raw: RawTableDefV10): never {
  throw new Error(`table ${raw.sourceName}: productTypeRef ${raw.productTypeRef} is not in the typespace`);
}
