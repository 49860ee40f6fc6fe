/** Table lookup for queries, and decoding of their BSATN rows for filters. */
import { AlgebraicType, BinaryReader } from 'spacetimedb';
import type { ModuleSchema, TableSchema } from '../contract.js';
import { SqlError } from './sql-error.js';
import type { DecodedRow } from './typecheck.js';

export interface SqlAuth {
  /** Caller identity (u256): what `:sender` means. */
  readonly sender: bigint;
  /** The database owner reads private tables and bypasses row-level security. */
  readonly isOwner: boolean;
}

type Decode = (bytes: Uint8Array) => DecodedRow;

// Per table object: a schema's tables live as long as the schema, and rebuilding the deserializer for
// every query would dominate compiling a subscription.
const decoders = new WeakMap<TableSchema, Decode>();

export function decoder(table: TableSchema, schema: ModuleSchema): Decode {
  let decode = decoders.get(table);
  if (!decode) {
    // The package types the typespace as a mutable array; it is only read.
    const deserialize = AlgebraicType.makeDeserializer(table.rowType, {
      types: schema.typespace.types as AlgebraicType[],
    });
    decode = (bytes) => deserialize(new BinaryReader(bytes)) as DecodedRow;
    decoders.set(table, decode);
  }
  return decode;
}

/**
 * A table the caller may read, by canonical name or alias. Private tables resolve only for the owner;
 * for anyone else they are reported exactly like missing ones, as SpacetimeDB does.
 */
export function readableTable(schema: ModuleSchema, name: string, auth: SqlAuth): TableSchema {
  const table = schema.tableByName(name);
  if (!table || (!table.isPublic && !auth.isOwner))
    throw new SqlError(
      'unresolved',
      `no such table: \`${name}\`. If the table exists, it may be marked private.`,
    );
  return table;
}
