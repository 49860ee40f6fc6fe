/**
 * What happens after the datastore commits a transaction, in order: the mutations go to the commit
 * log under the next offset (empty transactions are not logged, as in SpacetimeDB), schedule timers
 * follow the schedule tables' changes, commit listeners (subscriptions) get the transaction, a
 * snapshot is taken when durability asks for one, and `afterCommit` runs (immediate calls queue).
 */
import type { Caller, CommittedTx, TableDelta } from '../contract.js';
import type { Datastore, TableChanges } from '../store/datastore.js';
import type { DurabilityPort, Image, LoggedMutations } from './durability-port.js';
import { ST_CLIENT_ID } from './st-client.js';
import type { LogLevel } from './sys-abi.js';

export interface CommitPipelineOptions {
  readonly store: Datastore;
  readonly durability: DurabilityPort;
  readonly log: (level: LogLevel, message: string) => void;
  /** Schedule tables changed: arm and cancel timers. */
  readonly onChanges?: (changes: TableChanges[], timestamp: bigint) => void;
  readonly afterCommit?: () => void;
}

export class CommitPipeline {
  private readonly listeners = new Set<(tx: CommittedTx) => void>();
  private nextOffset: bigint;

  constructor(private readonly options: CommitPipelineOptions) {
    this.nextOffset = options.durability.recovered.offset + 1n;
  }

  /** Offset of the last logged transaction (-1 before the first). */
  get lastOffset(): bigint {
    return this.nextOffset - 1n;
  }

  onCommit(listener: (tx: CommittedTx) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Commits the datastore's open transaction and publishes it. `caller` is recorded for reducer calls
   * a client made; `reducer` names what ran (absent for host-only transactions).
   */
  commit(
    timestamp: bigint,
    caller?: Caller,
    reducer?: { readonly name: string; readonly args: Uint8Array },
  ): CommittedTx {
    const { store, durability, log } = this.options;
    const { changes, sequences } = store.commit();
    const mutations: LoggedMutations[] = changes
      .filter((c) => !c.table.isEvent)
      .map((c) => ({ tableId: c.table.tableId, inserts: c.inserts, deletes: c.deletes }));
    let offset: bigint;
    if (mutations.length > 0 || sequences.length > 0) {
      offset = this.nextOffset++;
      durability.append({
        offset,
        timestamp,
        ...(reducer ? { reducer: reducer.name, args: reducer.args } : {}),
        ...(caller ? { callerIdentity: caller.identity, callerConnectionId: caller.connectionId } : {}),
        mutations,
        sequences,
      });
    } else {
      // Nothing to log (SpacetimeDB skips empty transactions): the answer is durable with what came before.
      offset = this.lastOffset;
    }
    const deltas: TableDelta[] = changes
      .filter((c) => c.table.tableId !== ST_CLIENT_ID)
      .map((c) => ({
        tableId: c.table.tableId,
        table: c.table.name,
        inserts: c.inserts,
        deletes: c.deletes,
      }));
    const tx: CommittedTx = {
      offset,
      timestamp,
      ...(caller ? { caller } : {}),
      ...(reducer ? { reducer } : {}),
      deltas,
    };
    this.options.onChanges?.(changes, timestamp);
    for (const listener of this.listeners) {
      try {
        listener(tx);
      } catch (e) {
        log('error', `commit listener failed: ${String(e)}`);
      }
    }
    if (durability.shouldSnapshot())
      void durability.snapshot(this.image()).catch((e) => log('error', `snapshot failed: ${String(e)}`));
    this.options.afterCommit?.();
    return tx;
  }

  /** The committed state as of the last logged offset, for a snapshot. */
  image(): Image {
    const tables = new Map<number, Uint8Array[]>();
    for (const t of this.options.store.allTables()) tables.set(t.schema.tableId, [...t.rows.values()]);
    return { offset: this.lastOffset, tables, sequences: this.options.store.sequenceStates() };
  }
}
