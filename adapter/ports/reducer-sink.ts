/**
 * What the Kafka batch loop writes through: the sync module's `append_sync_events` with the
 * partition's source cursor in the same transaction, and the cursor read back. SpacetimeWriter
 * (../spacetime/writer.ts) is the production sink; the loop's own test uses an in-memory one, so
 * the loop's ordering, isolation and dead-letter rules are tested without SpacetimeDB.
 */
import type { EventInput } from '../envelope/to-event.js';

/** A source regression is not a receipt: the module refuses it (SyncError `source_regression`). */
export type ReceiptStatus = 'appended' | 'duplicate';

export interface AppendReceipt {
  readonly stream: string;
  readonly key: string;
  readonly seq: bigint;
  readonly status: ReceiptStatus;
}

/** The next Kafka offset of one partition for one consumer group: the exactly-once anchor. */
export interface SourceCursor {
  readonly consumerGroup: string;
  readonly topic: string;
  readonly partition: number;
  readonly nextOffset: bigint;
  /**
   * A pipelined call's predecessor's cursor: the module applies the call only once the stored
   * cursor is there (module/src/logic/cursor-plan.ts), else refuses it, retryable.
   */
  readonly fromOffset?: bigint;
}

export interface ReducerSink {
  /**
   * Appends `events` atomically and moves `cursor` in the same transaction (an empty `events` only
   * moves the cursor). Resolves with one receipt per event once committed; rejects with a SyncError
   * (the module's refusal, or `unavailable`).
   */
  appendBatch(events: readonly EventInput[], cursor?: SourceCursor): Promise<AppendReceipt[]>;
  /** The next offset the sink holds for a partition, if any. */
  cursor(group: string, topic: string, partition: number): bigint | undefined;
  /** Resolves once the sink can take calls again (rejects after `ms`): waited on between retries. */
  waitConnected(ms: number): Promise<void>;
}
