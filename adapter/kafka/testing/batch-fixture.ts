/**
 * The batch loop's test doubles: an in-memory ReducerSink that keeps events and cursors the way the
 * sync module does (one transaction per call: all of it or nothing), an in-memory dead-letter
 * topic, and batches of real encoded envelopes.
 */
import { toBinary } from '@bufbuild/protobuf';
import { SyncEnvelopeSchema } from '../../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { SyncError } from '../../../shared/errors/sync-error.js';
import { syncEnvelope } from '../../../test/support/envelopes.js';
import type { EventInput } from '../../envelope/to-event.js';
import type { AppendReceipt, ReducerSink, SourceCursor } from '../../ports/reducer-sink.js';
import type { BatchPayload } from '../batch-loop.js';
import type { DeadLetterSink } from '../dead-letter.js';

export const GROUP = 'g';
export const TOPIC = 'authority';

/** Like the module: keys seen once per stream, a cursor per partition, `refuse` decides refusals. */
export class MemorySink implements ReducerSink {
  readonly events: string[] = [];
  readonly cursors = new Map<string, bigint>();
  calls = 0;
  /** Each call that committed: its events' keys and the cursor it moved to. */
  readonly committed: { keys: string[]; next?: bigint }[] = [];
  /** Thrown for the whole call when it holds an event it names (a refusal, or an outage). */
  refuse: (e: EventInput) => Error | undefined = () => undefined;
  /** Answers wait for the next turn of the event loop, as a host's do: a pipelining caller has several out. */
  answerLater = false;
  /** Calls sent and not answered yet, and the most there were at once. */
  outstanding = 0;
  peakOutstanding = 0;
  /** Calls refused because their `fromOffset` was ahead of the cursor. */
  outOfOrder = 0;

  async appendBatch(events: readonly EventInput[], cursor?: SourceCursor): Promise<AppendReceipt[]> {
    this.outstanding++;
    this.peakOutstanding = Math.max(this.peakOutstanding, this.outstanding);
    try {
      // Applied (or refused) at once, in the order sent, like the host's one queue per connection.
      const receipts = this.apply(events, cursor);
      if (this.answerLater) await new Promise<void>((r) => setImmediate(r));
      return receipts;
    } finally {
      this.outstanding--;
    }
  }

  private apply(events: readonly EventInput[], cursor?: SourceCursor): AppendReceipt[] {
    this.calls++;
    if (cursor?.fromOffset !== undefined) {
      // The module's check (module/src/logic/cursor-plan.ts): a predecessor that did not commit.
      const stored = this.cursors.get(`${cursor.topic}/${cursor.partition}`);
      if (stored === undefined || stored < cursor.fromOffset) {
        this.outOfOrder++;
        throw new SyncError('out_of_order_sequence', `cursor at ${stored}, call from ${cursor.fromOffset}`);
      }
    }
    for (const e of events) {
      const err = this.refuse(e);
      if (err) throw err;
    }
    const key = `${cursor?.topic}/${cursor?.partition}`;
    if (cursor && cursor.nextOffset > (this.cursors.get(key) ?? -1n))
      this.cursors.set(key, cursor.nextOffset);
    this.committed.push({
      keys: events.map((e) => e.idempotencyKey),
      ...(cursor ? { next: cursor.nextOffset } : {}),
    });
    return events.map((e) => {
      this.events.push(e.idempotencyKey);
      return {
        stream: e.streamId,
        key: e.idempotencyKey,
        seq: BigInt(this.events.length),
        status: 'appended',
      };
    });
  }

  cursor(_group: string, topic: string, partition: number): bigint | undefined {
    return this.cursors.get(`${topic}/${partition}`);
  }

  async waitConnected(): Promise<void> {}
}

export class MemoryDeadLetters implements DeadLetterSink {
  readonly records: { offset: string; reason: string }[] = [];
  async deadLetter(message: { offset: string }, _source: unknown, error: SyncError): Promise<void> {
    this.records.push({ offset: message.offset, reason: error.reason });
  }
}

export const good = (key: string, seq: number, stream = 'acct:1', body = `body ${key}`) =>
  Buffer.from(toBinary(SyncEnvelopeSchema, syncEnvelope(stream, key, body, BigInt(seq))));

/** A batch of partition 0 starting at `first`; `commits` records the offsets committed, in order. */
export function batch(values: (Buffer | null)[], first = 0, live = () => true) {
  const resolved: string[] = [];
  const payload: BatchPayload = {
    batch: {
      topic: TOPIC,
      partition: 0,
      highWatermark: String(first + values.length),
      messages: values.map((value, i) => ({ key: null, value, offset: String(first + i) })),
    },
    resolveOffset: (o) => resolved.push(o),
    heartbeat: async () => {},
    isRunning: live,
    isStale: () => false,
  };
  return { payload, resolved };
}
