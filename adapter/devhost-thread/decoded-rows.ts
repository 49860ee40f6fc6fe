/**
 * A table's committed rows decoded to plain objects (column name → value), on the thread that owns
 * the datastore: what `EmbeddedDevhost.tableRows` answers in either mode.
 */
import type { Devhost } from '@spacetime-sync/devhost';
import { AlgebraicType, BinaryReader } from 'spacetimedb';

export function decodedRows(d: Devhost, database: string, table: string): Record<string, unknown>[] {
  const db = d.databases.get(database);
  if (!db) throw new Error(`no database '${database}'`);
  const schema = db.schema.tableByName(table);
  if (!schema) throw new Error(`no table '${table}' in '${database}'`);
  const decode = AlgebraicType.makeDeserializer(schema.rowType, db.schema.typespace as never);
  return [...db.scanTable(schema.tableId)].map(
    (bytes) => decode(new BinaryReader(bytes)) as Record<string, unknown>,
  );
}
