/**
 * What happens after the datastore commits a transaction, in order: the mutations go to the commit
 * log under the next offset (empty transactions are not logged, as in SpacetimeDB), schedule timers
 * follow the schedule tables' changes, commit listeners (subscriptions) get the transaction, a
 * snapshot is taken when durability asks for one, and `afterCommit` runs (immediate calls queue).
 *
 * When the log runs out of space, the transactions it could not write are rolled back here (newest
 * first, as one compensating transaction that listeners see), so memory never holds state the log
 * lacks; until space returns, `blocked` says why nothing can commit.
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
  /** Logged transactions not yet durable, with what they changed: what a stall may have to undo. */
  private undurable: { readonly offset: bigint; readonly changes: TableChanges[] }[] = [];

  constructor(private readonly options: CommitPipelineOptions) {
    this.nextOffset = options.durability.recovered.offset + 1n;
    options.durability.onStall?.({
      stalled: (lastLogged, reason) => this.rollBackAfter(lastLogged, reason),
      resumed: () => options.log('warn', 'the commit log has space again: commits resume'),
    });
  }

  /** Why no transaction can commit right now (the commit log is out of space), or undefined. */
  get blocked(): string | undefined {
    return this.options.durability.blocked?.();
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
    const blocked = this.blocked;
    if (blocked !== undefined) {
      // Callers check `blocked` first; this keeps memory from ever running ahead of the log.
      store.rollback();
      throw new Error(`the database cannot commit: ${blocked}`);
    }
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
      const durable = durability.durableOffset();
      this.undurable = this.undurable.filter((u) => u.offset > durable);
      this.undurable.push({ offset, changes });
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
    this.publish(tx);
    if (durability.shouldSnapshot())
      void durability.snapshot(this.image()).catch((e) => log('error', `snapshot failed: ${String(e)}`));
    this.options.afterCommit?.();
    return tx;
  }

  private publish(tx: CommittedTx): void {
    for (const listener of this.listeners) {
      try {
        listener(tx);
      } catch (e) {
        this.options.log('error', `commit listener failed: ${String(e)}`);
      }
    }
  }

  /** The log stopped after `lastLogged`: undo what memory holds beyond it, newest first. */
  private rollBackAfter(lastLogged: bigint, reason: string): void {
    const { store, log } = this.options;
    const doomed = this.undurable.filter((u) => u.offset > lastLogged).reverse();
    this.undurable = this.undurable.filter((u) => u.offset <= lastLogged);
    this.nextOffset = lastLogged + 1n;
    if (doomed.length === 0) return;
    store.begin();
    for (const u of doomed) {
      for (const c of [...u.changes].reverse()) {
        if (c.table.isEvent) continue;
        if (c.inserts.length > 0) store.deleteAllByEq(c.table.tableId, bsatnArray(c.inserts));
        for (const row of c.deletes) store.insert(c.table.tableId, row);
      }
    }
    const { changes } = store.commit();
    log(
      'error',
      `rolled back ${doomed.length} committed transaction(s) (offsets ${doomed.at(-1)?.offset}..${doomed[0]?.offset}) ` +
        `the commit log could not hold; their callers were told: ${reason}`,
    );
    this.options.onChanges?.(changes, BigInt(Date.now()) * 1000n);
    this.publish({
      offset: lastLogged,
      timestamp: BigInt(Date.now()) * 1000n,
      deltas: changes
        .filter((c) => c.table.tableId !== ST_CLIENT_ID)
        .map((c) => ({
          tableId: c.table.tableId,
          table: c.table.name,
          inserts: c.inserts,
          deletes: c.deletes,
        })),
    });
  }

  /** The committed state as of the last logged offset, for a snapshot. */
  image(): Image {
    const tables = new Map<number, Uint8Array[]>();
    for (const t of this.options.store.allTables()) tables.set(t.schema.tableId, [...t.rows.values()]);
    return { offset: this.lastOffset, tables, sequences: this.options.store.sequenceStates() };
  }
}

/** Rows as the BSATN `Array<Row>` the datastore's delete-by-equality takes. */
function bsatnArray(rows: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(4 + rows.reduce((n, r) => n + r.length, 0));
  new DataView(out.buffer).setUint32(0, rows.length, true);
  let at = 4;
  for (const r of rows) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}
