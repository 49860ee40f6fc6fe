/**
 * The datastore alone, for benchmarks: the same `Datastore` a hosted database writes through, with
 * one table of a module's schema and no module, sys calls, commit log or subscribers. What inserting
 * pre-encoded rows costs here bounds what any reducer can reach on devhost (`npm run bench` prints
 * it as the ceiling of the append cases).
 */
import type { ModuleSchema } from '../contract.js';
import { Datastore } from './datastore.js';

export interface StoreOnly {
  /** Inserts the BSATN rows in one transaction and commits it. */
  insertTx(rows: readonly Uint8Array[]): void;
}

export function storeOnly(schema: ModuleSchema, tableName: string): StoreOnly {
  const table = schema.tableByName(tableName);
  if (!table) throw new Error(`no table ${tableName}`);
  const store = new Datastore(schema.typespace);
  store.addTable(
    table,
    table.indexes.filter((i) => i.unique).map((i) => i.columns),
  );
  return {
    insertTx(rows) {
      store.begin();
      for (const row of rows) store.insert(table.tableId, row);
      store.commit();
    },
  };
}
