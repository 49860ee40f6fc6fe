/**
 * Decodes `__describe_module__()` bytes into the V10 sections we use (host spec §1.5). Decoding goes
 * through the dist `AlgebraicType` deserializer with the autogen type's structure: the autogen builders
 * themselves are bound to the package's src BinaryReader, a different class from the public one.
 */
import { AlgebraicType, BinaryReader } from 'spacetimedb';
import {
  type RawLifeCycleReducerDefV10,
  RawModuleDef,
  type RawModuleDefV10Section,
  type RawReducerDefV10,
  type RawScheduleDefV10,
  type RawTableDefV10,
  type Typespace,
} from '../stdb-internal/module-def.js';

export interface ModuleDefV10 {
  readonly typespace: Typespace;
  readonly tables: readonly RawTableDefV10[];
  readonly reducers: readonly RawReducerDefV10[];
  readonly schedules: readonly RawScheduleDefV10[];
  readonly lifecycle: readonly RawLifeCycleReducerDefV10[];
  readonly rowLevelSecurity: readonly string[];
  /** kind ('Table' | 'Function' | 'Index') → source name → canonical name. */
  readonly explicitNames: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly snakeCase: boolean;
  /** Names of typespace entries from the `Types` section (for generated bindings). */
  readonly typeNames: ReadonlyMap<number, string>;
}

export function decodeModuleDef(bytes: Uint8Array): ModuleDefV10 {
  const deserialize = AlgebraicType.makeDeserializer(RawModuleDef.algebraicType);
  const def = deserialize(new BinaryReader(bytes)) as RawModuleDef;
  if (def.tag !== 'V10') throw new Error(`unsupported module definition version ${def.tag} (expected V10)`);
  let typespace: Typespace = { types: [] };
  const tables: RawTableDefV10[] = [];
  const reducers: RawReducerDefV10[] = [];
  const schedules: RawScheduleDefV10[] = [];
  const lifecycle: RawLifeCycleReducerDefV10[] = [];
  const rls: string[] = [];
  const explicit = new Map<string, Map<string, string>>();
  const typeNames = new Map<number, string>();
  let snakeCase = true; // TS default policy (lib/schema.ts)
  for (const section of def.value.sections as RawModuleDefV10Section[]) {
    switch (section.tag) {
      case 'Typespace':
        typespace = section.value;
        break;
      case 'Types':
        for (const named of section.value) typeNames.set(named.ty, named.sourceName.sourceName);
        break;
      case 'Tables':
        tables.push(...section.value);
        break;
      case 'Reducers':
        reducers.push(...section.value);
        break;
      case 'Schedules':
        schedules.push(...section.value);
        break;
      case 'LifeCycleReducers':
        lifecycle.push(...section.value);
        break;
      case 'RowLevelSecurity':
        rls.push(...section.value.map((r) => r.sql));
        break;
      case 'ExplicitNames':
        for (const entry of section.value.entries) {
          let byKind = explicit.get(entry.tag);
          if (!byKind) {
            byKind = new Map();
            explicit.set(entry.tag, byKind);
          }
          byKind.set(entry.value.sourceName, entry.value.canonicalName);
        }
        break;
      case 'CaseConversionPolicy':
        snakeCase = section.value.tag === 'SnakeCase';
        break;
      case 'Submodules':
        if (section.value.length > 0) throw new Error('submodules are not supported by devhost');
        break;
      default:
        break;
    }
  }
  return {
    typespace,
    tables,
    reducers,
    schedules,
    lifecycle,
    rowLevelSecurity: rls,
    explicitNames: explicit,
    snakeCase,
    typeNames,
  };
}
