/**
 * Test-only: real module schemas for the SQL tests (described by running the module, as the host does)
 * and BSATN rows built with the package's own serializer.
 */
import {
  AlgebraicType,
  BinaryWriter,
  ConnectionId,
  Identity,
  TimeDuration,
  Timestamp,
  Uuid,
} from 'spacetimedb';
import { describeModule } from '../../codegen/index.js';
import type { ModuleSchema, TableSchema } from '../../contract.js';
import { buildModuleSchema, decodeModuleDef, type HostModuleSchema } from '../../schema/index.js';

/** devhost's reference module (person, private secret_note, event notice, …). */
export const TEST_MODULE = new URL('../../testdata/test-module/index.ts', import.meta.url).pathname;
/** This directory's module: a column of every comparable type, and row-level-security rules on `doc`. */
export const SQL_MODULE = new URL('../testdata/sql-module/index.ts', import.meta.url).pathname;

const cache = new Map<string, Promise<HostModuleSchema>>();

export function loadSchema(entry: string): Promise<HostModuleSchema> {
  let schema = cache.get(entry);
  if (!schema) {
    schema = describeModule(entry).then((bytes) => buildModuleSchema(decodeModuleDef(bytes)));
    cache.set(entry, schema);
  }
  return schema;
}

export function tableOf(schema: ModuleSchema, name: string): TableSchema {
  const table = schema.tableByName(name);
  if (!table) throw new Error(`test schema has no table ${name}`);
  return table;
}

/** A row value (keyed by accessor names, as the SDK writes them) encoded as BSATN. */
export function encodeRow(schema: ModuleSchema, table: string, value: object): Uint8Array {
  const writer = new BinaryWriter(64);
  AlgebraicType.makeSerializer(tableOf(schema, table).rowType, {
    types: schema.typespace.types as AlgebraicType[],
  })(writer, value);
  return writer.getBuffer();
}

/** A `sample` row (SQL_MODULE) with every column at its zero value, then `fields` over it, as BSATN. */
export function sampleRow(schema: ModuleSchema, fields: Record<string, unknown> = {}): Uint8Array {
  return encodeRow(schema, 'sample', {
    id: 1,
    flag: false,
    smallI8: 0,
    smallU8: 0,
    smallI16: 0,
    smallU16: 0,
    smallI32: 0,
    smallU32: 0,
    bigI64: 0n,
    bigU64: 0n,
    bigI128: 0n,
    bigU128: 0n,
    bigI256: 0n,
    bigU256: 0n,
    realF32: 0,
    realF64: 0,
    label: '',
    other: '',
    payload: new Uint8Array(),
    who: new Identity(0n),
    conn: new ConnectionId(0n),
    createdAt: new Timestamp(0n),
    uid: new Uuid(0n),
    span: new TimeDuration(0n),
    maybe: undefined,
    point: { x: 0, y: 0 },
    color: { tag: 'red' },
    tags: [],
    ...fields,
  });
}
