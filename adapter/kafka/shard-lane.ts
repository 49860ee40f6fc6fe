/**
 * One shard's share of one fetched batch, in offset order: valid events are appended in groups of
 * at most `maxBatch` events and `maxBatchBytes` of envelopes (one message larger than that goes
 * alone) whose transaction also stores the shard's cursor for the partition; a group
 * refused as a whole is retried event by event to isolate the bad ones, which go to the dead-letter
 * topic with their reason (the cursor moves past them); undecodable messages routed here too. The
 * lane's last write carries the cursor past the *whole* batch: every other message of the batch
 * belongs to another shard, so this shard has nothing of its own below it left to apply.
 *
 * Up to `callsInFlight` groups are in flight at once (./lane-window.ts): each names its predecessor's
 * cursor, so the module never applies one past a predecessor that failed; a failed one and those
 * behind it are redone on the sequential path described here.
 *
 * Anything else is retried with backoff (./retry.ts) while `live()`; when the shard goes down
 * (`live()` false while the batch is still wanted) the lane ends with `LaneStopped`, naming the
 * first offset it did not apply, and the batch loop marks the shard lagging from there.
 */
import type kafkajs from 'kafkajs';
import type { Logger } from 'pino';
import type { SyncError } from '../../shared/errors/sync-error.js';
import type { EventInput } from '../envelope/to-event.js';
import type { AppendReceipt, ReducerSink, SourceCursor } from '../ports/reducer-sink.js';
import type { BatchMetrics } from './batch-loop.js';
import type { DeadLetterSink } from './dead-letter.js';
import { LaneWindow, WindowDropped } from './lane-window.js';
import { refused, withRetry } from './retry.js';

type Message = Pick<kafkajs.KafkaMessage, 'key' | 'value' | 'offset'>;

export interface LaneItem {
  /** The original message: a refused or undecodable one is dead-lettered with its exact bytes. */
  readonly raw: Message;
  readonly offset: bigint;
  /** The event, or why the message could not be decoded. */
  readonly event: EventInput | SyncError;
  readonly producedAtMicros: bigint;
}

/** The lane could not apply from `offset` on (its shard is down); nothing at or after it was applied. */
export class LaneStopped extends Error {
  constructor(
    readonly offset: bigint,
    cause: unknown,
  ) {
    super(`shard stopped at offset ${offset}`, { cause });
  }
}

export interface LaneContext {
  readonly shard: string;
  readonly sink: ReducerSink;
  readonly deadLetters: DeadLetterSink;
  readonly source: { readonly topic: string; readonly partition: number };
  readonly cursorOf: (next: bigint) => SourceCursor;
  readonly maxBatch: number;
  /** Envelope bytes per append call (a bigger message goes alone); default DEFAULT_MAX_BATCH_BYTES. */
  readonly maxBatchBytes?: number;
  readonly metrics: BatchMetrics;
  readonly logger: Logger;
  /** False once the batch is given up or the shard is down: retries end. */
  readonly live: () => boolean;
  readonly heartbeat: () => Promise<void>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly maxUnexplained?: number;
  /** Append calls of the lane in flight at once (./lane-window.ts); 1 (the default) sends one after the other. */
  readonly callsInFlight?: number;
}

const isEvent = (e: EventInput | SyncError): e is EventInput => !(e instanceof Error);

/**
 * Envelope bytes one append call carries at most: a quarter of devhost's reducer-argument bound
 * (16 MiB), so a group of large messages is split before SpacetimeDB would refuse it whole and make
 * the lane retry it event by event.
 */
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;

const sizeOf = (item: LaneItem) => item.raw.value?.length ?? 0;

/** Applies `items` (this shard's messages of the batch, in order), then moves the cursor to `end`. */
export async function runLane(c: LaneContext, items: readonly LaneItem[], end: bigint): Promise<void> {
  let pending: LaneItem[] = [];
  let pendingBytes = 0;
  const maxBytes = c.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  const guard = async (first: bigint, work: () => Promise<void>) => {
    try {
      await work();
    } catch (e) {
      if (refused(e) || e instanceof LaneStopped) throw e;
      if (e instanceof DeadLetterFailed) throw e.cause;
      throw new LaneStopped(first, e);
    }
  };
  const window = new LaneWindow<LaneItem[], AppendReceipt[]>(c.callsInFlight ?? 1, {
    send: (group, next, from) =>
      c.sink.appendBatch(
        group.map((i) => i.event as EventInput),
        from === undefined ? c.cursorOf(next) : { ...c.cursorOf(next), fromOffset: from },
      ),
    answered: (group, receipts, startedAt) => recordAnswer(c, group, receipts, startedAt),
    sent: (inFlight) => c.metrics.partitionCallsInFlight.observe(inFlight),
    redone: () => c.metrics.callsRedone.inc(),
    redo: (group, next) => guard((group[0] as LaneItem).offset, () => appendInOrder(c, group, next)),
    live: c.live,
  });
  const flush = async (next: bigint) => {
    const group = pending;
    pending = [];
    pendingBytes = 0;
    if (group.length === 0) return;
    try {
      await window.send(group, next);
    } catch (e) {
      // Given up (revoked, stale, stopping, shard down): nothing from the first call that failed
      // (or the first not sent) on is applied.
      throw e instanceof WindowDropped ? new LaneStopped((e.group as LaneItem[])[0]?.offset ?? 0n, e) : e;
    }
  };
  for (const item of items) {
    if (isEvent(item.event)) {
      // Past the byte bound the group so far goes first, its cursor up to this message.
      if (pending.length > 0 && pendingBytes + sizeOf(item) > maxBytes) await flush(item.offset);
      pending.push(item);
      pendingBytes += sizeOf(item);
      if (pending.length >= c.maxBatch) await flush(item.offset + 1n);
      continue;
    }
    await flush(item.offset);
    // Every call before the dead letter is answered first: its cursor moves past them.
    await window.drain();
    // A dead-letter topic that refuses is not the shard's failure: it propagates (the consumer
    // crashes and the watchdog replaces it, as for one shard).
    await c.deadLetters.deadLetter(item.raw, c.source, item.event);
    await guard(item.offset, () => advanceCursor(c, c.cursorOf(item.offset + 1n)));
  }
  if (pending.length > 0) {
    await flush(end);
    await window.drain();
    return;
  }
  await window.drain();
  const held = c.sink.cursor(c.cursorOf(end).consumerGroup, c.source.topic, c.source.partition);
  // Nothing of this shard left in the batch: move its cursor over the others' messages, so a
  // restart does not re-read them for it. Unneeded when the cursor is there already.
  if (held === undefined || held < end) await guard(end, () => advanceCursor(c, c.cursorOf(end)));
}

/** Appends in order; a group refused as a whole is retried event by event to isolate the bad ones. */
async function appendInOrder(c: LaneContext, items: LaneItem[], next: bigint): Promise<void> {
  try {
    await timedAppend(c, items, c.cursorOf(next));
    return;
  } catch (e) {
    if (!refused(e)) throw e;
  }
  for (const [i, item] of items.entries()) {
    // The last one carries the group's cursor (past the batch, when the group ends it).
    const cursor = c.cursorOf(i === items.length - 1 ? next : item.offset + 1n);
    try {
      await timedAppend(c, [item], cursor);
    } catch (e) {
      if (!refused(e)) throw new LaneStopped(item.offset, e);
      // Refused: its authority seq must not count as seen (it would poison the lag gauge).
      const event = item.event as EventInput;
      c.metrics.refusedSourceSeq(event.streamId, event.sourceSeq);
      await deadLetter(c, item, e);
      await advanceCursor(c, cursor).catch((err: unknown) => {
        throw new LaneStopped(item.offset + 1n, err);
      });
    }
  }
}

/** Dead-letter failures are not the shard's: they leave the lane as they are (see runLane). */
class DeadLetterFailed extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

async function deadLetter(c: LaneContext, item: LaneItem, why: SyncError): Promise<void> {
  try {
    await c.deadLetters.deadLetter(item.raw, c.source, why);
  } catch (e) {
    throw new DeadLetterFailed(e);
  }
}

/**
 * Moves the shard's cursor past a dead-lettered message. If the module refuses (the adapter's own
 * identity lost its writer role), the batch still moves on: the cursor then lags behind and a
 * restart re-reads those messages, which is safe, appends being idempotent. Throwing instead would
 * make kafkajs re-deliver the batch and dead-letter the same messages again and again.
 */
async function advanceCursor(c: LaneContext, cursor: SourceCursor): Promise<void> {
  try {
    await retrying(c, () => c.sink.appendBatch([], cursor));
  } catch (e) {
    if (!refused(e)) throw e;
    c.logger.warn(
      {
        shard: c.shard,
        reason: e.reason,
        detail: e.message,
        topic: cursor.topic,
        partition: cursor.partition,
      },
      'SpacetimeDB refused to move the source cursor; continuing',
    );
  }
}

async function timedAppend(c: LaneContext, items: LaneItem[], cursor: SourceCursor): Promise<void> {
  const started = performance.now();
  const receipts = await retrying(c, () =>
    c.sink.appendBatch(
      items.map((i) => i.event as EventInput),
      cursor,
    ),
  );
  recordAnswer(c, items, receipts, started);
}

function recordAnswer(c: LaneContext, items: LaneItem[], receipts: AppendReceipt[], started: number): void {
  c.metrics.reducerDuration.observe((performance.now() - started) / 1000);
  c.metrics.batchSize.observe(items.length);
  const nowMicros = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
  for (const [i, r] of receipts.entries()) {
    c.metrics.eventsAppended.inc({ source: 'kafka', outcome: r.status });
    c.metrics.shardEventsAppended.inc({ shard: c.shard, outcome: r.status });
    const produced = items[i]?.producedAtMicros ?? 0n;
    if (r.status === 'appended' && produced > 0n)
      c.metrics.commitLatency.observe(Number(nowMicros - produced) / 1e6);
  }
}

/** ./retry.ts with this lane's metrics, logs and heartbeat. */
function retrying<T>(c: LaneContext, fn: () => Promise<T>): Promise<T> {
  return withRetry(fn, {
    live: c.live,
    between: async () => {
      await c.heartbeat().catch(() => {});
      await c.sink.waitConnected(10_000).catch(() => {});
    },
    onFailure: (err, retryInMs) => {
      c.metrics.reducerErrors.inc({ reason: err.reason });
      if (retryInMs !== undefined) {
        c.logger.warn(
          { shard: c.shard, reason: err.reason, detail: err.message, retryInMs },
          'append failed; retrying',
        );
      }
    },
    ...(c.sleep ? { sleep: c.sleep } : {}),
    ...(c.maxUnexplained !== undefined ? { maxUnexplained: c.maxUnexplained } : {}),
  });
}
