/**
 * A database's first state: the recovered image when durability holds one, otherwise a fresh database
 * whose `init` reducer runs once, as the owner, in the first transaction (a failing init fails the
 * open, as a failing publish does).
 */
import type { HostModuleSchema } from '../schema/index.js';
import type { Image } from './durability-port.js';
import type { TxEngine } from './transaction.js';
import type { TxClock } from './tx-clock.js';

const NO_ARGS = new Uint8Array(0);

export function restoreOrInit(
  engine: TxEngine,
  schema: HostModuleSchema,
  recovered: Image,
  init: { readonly owner: bigint; readonly databaseName: string; readonly clock: TxClock },
): void {
  const { store, run, commits } = engine;
  if (recovered.offset >= 0n) {
    for (const [tableId, rows] of recovered.tables)
      if (store.hasTable(tableId)) store.loadRows(tableId, rows);
    for (const seq of recovered.sequences) store.restoreSequence(seq);
    return;
  }
  const reducer = schema.lifecycle.get('init');
  store.begin();
  if (reducer) {
    const caller = { identity: init.owner, connectionId: 0n };
    const result = run({ reducer, caller, timestamp: init.clock(), args: NO_ARGS });
    if (!result.ok) {
      store.rollback();
      throw new Error(`init reducer of ${init.databaseName} failed: ${result.message}`);
    }
  }
  commits.commit(init.clock(), undefined, reducer ? { name: reducer.name, args: NO_ARGS } : undefined);
}
