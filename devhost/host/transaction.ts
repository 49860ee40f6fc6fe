/**
 * One reducer call as its own transaction: begin, run, then roll back on failure or commit and
 * publish. `record` keeps the caller on the logged transaction (client calls; not scheduled ones).
 */
import type { Caller, ReducerOutcome, ReducerSchema } from '../contract.js';
import type { Datastore } from '../store/datastore.js';
import type { CommitPipeline } from './commit-pipeline.js';
import type { ReducerRunner } from './reducer-runner.js';

export interface TxEngine {
  readonly store: Datastore;
  readonly run: ReducerRunner;
  readonly commits: CommitPipeline;
}

export function transact(
  engine: TxEngine,
  reducer: ReducerSchema,
  args: Uint8Array,
  caller: Caller,
  timestamp: bigint,
  record: boolean,
): ReducerOutcome {
  const blocked = engine.commits.blocked;
  if (blocked !== undefined)
    return { kind: 'failed-internal', timestamp, message: `the database cannot commit: ${blocked}` };
  engine.store.begin();
  const result = engine.run({ reducer, caller, timestamp, args });
  if (!result.ok) {
    engine.store.rollback();
    return { kind: result.user ? 'failed-user' : 'failed-internal', timestamp, message: result.message };
  }
  const tx = engine.commits.commit(timestamp, record ? caller : undefined, { name: reducer.name, args });
  return { kind: 'committed', tx };
}
