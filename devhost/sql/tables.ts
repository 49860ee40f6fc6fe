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

// Per table object and width: a schema's tables live as long as the schema, and rebuilding the
// deserializer for every query would dominate compiling a subscription.
const decoders = new WeakMap<TableSchema, Map<number, Decode>>();

/**
 * Decodes a table's BSATN rows, stopping after the first `width` columns (all by default). A filter
 * that names only leading columns (`stream_id`, `seq` of `sync_event`) so never decodes — nor copies —
 * the payload behind them: the subscription filter runs for every candidate row and every subscriber.
 */
export function decoder(table: TableSchema, schema: ModuleSchema, width = table.columns.length): Decode {
  const n = Math.max(0, Math.min(width, table.columns.length));
  let byWidth = decoders.get(table);
  if (!byWidth) {
    byWidth = new Map();
    decoders.set(table, byWidth);
  }
  let decode = byWidth.get(n);
  if (!decode) {
    const rowType =
      table.rowType.tag === 'Product' && n < table.columns.length
        ? { tag: 'Product' as const, value: { elements: table.rowType.value.elements.slice(0, n) } }
        : table.rowType;
    // The package types the typespace as a mutable array; it is only read. A product deserializer
    // reads its fields in order and leaves the bytes after them unread.
    const deserialize = AlgebraicType.makeDeserializer(rowType as AlgebraicType, {
      types: schema.typespace.types as AlgebraicType[],
    });
    decode = (bytes) => deserialize(new BinaryReader(bytes)) as DecodedRow;
    byWidth.set(n, decode);
  }
  return decode;
}

/** The leading columns a filter needs: up to the last one it names (all when one is unknown). */
export function columnsNeeded(table: TableSchema, fields: Iterable<string>): number {
  let n = 0;
  for (const field of fields) {
    const col =
      table.columns.find((c) => c.name === field) ?? table.columns.find((c) => c.sourceName === field);
    // Unknown: the type checker reports it; decode everything meanwhile.
    if (!col) return table.columns.length;
    n = Math.max(n, col.colId + 1);
  }
  return n;
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
