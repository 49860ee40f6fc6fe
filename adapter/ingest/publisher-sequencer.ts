/**
 * Per-publisher ordering for pipelined publishing, as Kafka's idempotent producer does it: a publisher
 * numbers its requests 1, 2, 3, … and may keep many in flight; requests can arrive in any order (one
 * HTTP/2 stream or connection overtakes another), yet they are started strictly in seq order. The
 * writer sends started requests to SpacetimeDB in that order on one connection, where they commit in
 * that order (../spacetime/call-window.ts), so one publisher's events keep its order in every stream.
 *
 * Per publisher: `next` is the lowest seq not started (or started and failed retryably). A request
 *  - with seq = next starts now, then every held successor that is now next starts too;
 *  - ahead of next is held — at most `maxHeld` requests over all publishers, each at most `holdMs` —
 *    and then refused with `out_of_order_sequence` (retryable, the detail names the expected seq);
 *  - already started answers the same outcome as its first copy (a retry after a lost answer);
 *  - older than what is remembered (`remember` seqs per publisher) starts unordered: the append is
 *    idempotent by key, so it answers duplicates.
 * A start refused synchronously (the ingest queue is full) leaves `next` where it was; a retryable
 * failure of a started request moves `next` back to it, so its retry is started in its place and
 * successors that arrive meanwhile wait for it. Nothing here knows about Connect or SpacetimeDB.
 */
import { create } from '@bufbuild/protobuf';
import { PublisherSequenceDetailSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { isSyncError, SyncError } from '../../shared/errors/sync-error.js';

export interface SequencerOptions {
  /** How long a request ahead of its predecessor is held (ms). */
  readonly holdMs: number;
  /** Requests held at once over all publishers; past it an early request is refused at once. */
  readonly maxHeld: number;
  /** Started seqs remembered per publisher (for answering repeats). */
  readonly remember: number;
  /** Publishers remembered; the least recently seen is forgotten past it. */
  readonly maxPublishers: number;
  /** Timers, replaceable in tests of pure logic. */
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (t: unknown) => void;
}

export const DEFAULT_SEQUENCER: SequencerOptions = {
  holdMs: 2_000,
  maxHeld: 1_024,
  remember: 1_024,
  maxPublishers: 10_000,
};

/**
 * Starts a request; runs synchronously up to handing it to the writer. Throwing synchronously means
 * "not started" (e.g. the ingest queue is full).
 */
export type Start<T> = () => Promise<T>;

interface Held<T> {
  readonly start: Start<T>;
  readonly resolve: (v: T) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: unknown;
}

interface Publisher<T> {
  next: bigint;
  readonly started: Map<bigint, Promise<T>>;
  readonly held: Map<bigint, Held<T>>;
}

export function outOfOrder(publisherId: string, expected: bigint, offered: bigint, why: string): SyncError {
  return new SyncError(
    'out_of_order_sequence',
    `publisher ${publisherId}: seq ${offered} ${why}; expected seq ${expected} first`,
    {
      detail: create(PublisherSequenceDetailSchema, {
        publisherId,
        expectedSeq: expected,
        offeredSeq: offered,
      }),
    },
  );
}

export class PublisherSequencer<T> {
  private readonly publishers = new Map<string, Publisher<T>>();
  private heldCount = 0;
  private readonly o: SequencerOptions;

  constructor(options: Partial<SequencerOptions> = {}) {
    this.o = { ...DEFAULT_SEQUENCER, ...options };
  }

  /** Requests held now, over all publishers. */
  get held(): number {
    return this.heldCount;
  }

  /** The next seq the publisher's requests are waiting for (1 for one never seen). */
  expected(publisherId: string): bigint {
    return this.publishers.get(publisherId)?.next ?? 1n;
  }

  submit(publisherId: string, seq: bigint, start: Start<T>): Promise<T> {
    const p = this.publisher(publisherId);
    const earlier = p.started.get(seq);
    if (earlier) return earlier;
    if (seq === p.next) return this.startInOrder(publisherId, p, seq, start);
    if (seq < p.next) return start();
    if (this.heldCount >= this.o.maxHeld || p.held.has(seq)) {
      const why = p.held.has(seq) ? 'is already held' : 'arrived early and the hold is full';
      return Promise.reject(outOfOrder(publisherId, p.next, seq, why));
    }
    return new Promise<T>((resolve, reject) => {
      const setTimer = this.o.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
      const timer = setTimer(() => {
        if (p.held.get(seq)?.timer !== timer) return;
        p.held.delete(seq);
        this.heldCount -= 1;
        reject(outOfOrder(publisherId, p.next, seq, `waited ${this.o.holdMs} ms for its predecessors`));
      }, this.o.holdMs);
      p.held.set(seq, { start, resolve, reject, timer });
      this.heldCount += 1;
    });
  }

  private publisher(id: string): Publisher<T> {
    let p = this.publishers.get(id);
    if (p) {
      // Most recently seen last, so the first is the one to forget.
      this.publishers.delete(id);
      this.publishers.set(id, p);
      return p;
    }
    p = { next: 1n, started: new Map(), held: new Map() };
    this.publishers.set(id, p);
    if (this.publishers.size > this.o.maxPublishers) {
      for (const [oldId, old] of this.publishers) {
        if (old.held.size > 0) continue;
        this.publishers.delete(oldId);
        break;
      }
    }
    return p;
  }

  /** Starts `seq` (= next), then every held successor that has become next. */
  private startInOrder(id: string, p: Publisher<T>, seq: bigint, start: Start<T>): Promise<T> {
    const first = this.startOne(id, p, seq, start);
    for (;;) {
      const h = p.held.get(p.next);
      if (!h) break;
      const s = p.next;
      p.held.delete(s);
      this.heldCount -= 1;
      (this.o.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout)))(h.timer);
      const started = this.startOne(id, p, s, h.start);
      started.then(h.resolve, h.reject);
      // A start refused at once leaves next at s: the successors keep waiting.
      if (p.next === s) break;
    }
    return first;
  }

  private startOne(_id: string, p: Publisher<T>, seq: bigint, start: Start<T>): Promise<T> {
    let run: Promise<T>;
    try {
      run = start();
    } catch (e) {
      return Promise.reject(e);
    }
    p.started.set(seq, run);
    p.next = seq + 1n;
    // Successors started before (then failed retryably and were retried ahead): skip past them.
    while (p.started.has(p.next)) p.next += 1n;
    for (const old of p.started.keys()) {
      if (old > p.next - BigInt(this.o.remember)) break;
      p.started.delete(old);
    }
    run.catch((e: unknown) => {
      if (!(isSyncError(e) && e.retryable) || p.started.get(seq) !== run) return;
      // Not applied: its retry must take its place before anything after it.
      p.started.delete(seq);
      if (seq < p.next) p.next = seq;
    });
    return run;
  }
}
