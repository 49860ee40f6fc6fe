/**
 * Per-publisher ordering for pipelined publishing, as Kafka's idempotent producer does it: a publisher
 * numbers its requests 1, 2, 3, … and may keep many in flight; requests can arrive in any order (one
 * HTTP/2 stream or connection overtakes another), yet they are started in seq order, so they rarely
 * reach the module out of order. The module is the authority (append_publisher_events): it keeps each
 * publisher's last applied seq and refuses a call ahead of it with `out_of_order_sequence` naming the
 * seq it expects. This class is a cache of that cursor which holds early requests instead of sending
 * them to be refused, and learns the cursor from the module's answers:
 *  - a publisher first seen (or forgotten, or after a restart) is unknown: its first request is sent
 *    as a probe and the others wait for its answer — committed means the next is seq + 1, refused
 *    ahead means the module named the next;
 *  - a request with seq = next starts now, then every held successor that is now next starts too;
 *  - one ahead of next is held — at most `maxHeld` requests over all publishers, each at most
 *    `holdMs` — then refused with `out_of_order_sequence` (retryable, the detail names the expected seq);
 *  - one already started or held answers the same outcome as its first copy (a retry after a lost
 *    answer); one older than what is remembered is sent as it is: the module answers its events as
 *    duplicates (a repeat of an applied seq);
 *  - a started request that fails did not apply (the module's transaction rolled back; a lost
 *    connection may have committed it, then its retry answers duplicates): `next` moves back to it, so
 *    its retry is started in its place and successors wait for it. Its successors already in flight
 *    are refused by the module as out of order and come back here to wait for it again.
 * A start refused synchronously (the ingest queue is full) leaves `next` at it. Memory is
 * bounded: about `maxPublishers` publishers (the least recently seen idle one is forgotten, then
 * re-learnt from the module on its next request; busy ones stay, see `publishers`). Nothing here knows about Connect or SpacetimeDB.
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
  /** Publishers remembered; the least recently seen is forgotten past it (and re-learnt from the module). */
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

interface Request<T> {
  readonly seq: bigint;
  readonly start: Start<T>;
  readonly promise: Promise<T>;
  readonly resolve: (v: T) => void;
  readonly reject: (e: unknown) => void;
}

interface Held<T> extends Request<T> {
  readonly timer: unknown;
}

interface Publisher<T> {
  /** The seq started next; undefined until learnt from the module (first sight, or forgotten). */
  next: bigint | undefined;
  /** The highest seq known committed (0 for none): a refusal naming an older next is stale. */
  committed: bigint;
  /** The seq of the probe in flight for an unknown publisher, if any. */
  probe: bigint | undefined;
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

/** The seq the module said it expects, when `e` is its out-of-order refusal. */
function moduleExpects(e: unknown): bigint | undefined {
  if (!isSyncError(e, 'out_of_order_sequence')) return undefined;
  return e.detail?.expectedSeq;
}

export class PublisherSequencer<T> {
  /**
   * Least recently seen first. Not an lru-cache (as adapter/auth's bounded maps are): lru-cache
   * evicts its least recently used entry whenever it is full, and its dispose cannot refuse. Here a
   * publisher with a request held or a probe in flight must not be forgotten — its held requests and
   * its probe's answer would act on a cursor no one reads any more while its next request starts a
   * second probe — so past the bound the least recently seen *idle* one goes, and the map may pass
   * `maxPublishers` by the busy ones (at most one per held request or probe in flight, both bounded).
   */
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

  /** Publishers remembered now. */
  get publisherCount(): number {
    return this.publishers.size;
  }

  /** The next seq the publisher's requests are waiting for, as far as known here. */
  expected(publisherId: string): bigint {
    const p = this.publishers.get(publisherId);
    return p ? (p.next ?? p.committed + 1n) : 1n;
  }

  submit(publisherId: string, seq: bigint, start: Start<T>): Promise<T> {
    const p = this.publisher(publisherId);
    const earlier = p.started.get(seq) ?? p.held.get(seq)?.promise;
    if (earlier) return earlier;
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    this.place(publisherId, p, { seq, start, promise, resolve, reject });
    return promise;
  }

  private publisher(id: string): Publisher<T> {
    let p = this.publishers.get(id);
    if (p) {
      // Most recently seen last, so the first is the one to forget.
      this.publishers.delete(id);
      this.publishers.set(id, p);
      return p;
    }
    p = { next: undefined, committed: 0n, probe: undefined, started: new Map(), held: new Map() };
    this.publishers.set(id, p);
    if (this.publishers.size > this.o.maxPublishers) {
      for (const [oldId, old] of this.publishers) {
        if (old.held.size > 0 || old.probe !== undefined) continue;
        this.publishers.delete(oldId);
        break;
      }
    }
    return p;
  }

  /** Starts, holds or sends `r` as the publisher's state says. */
  private place(id: string, p: Publisher<T>, r: Request<T>): void {
    if (p.next === undefined) {
      if (p.probe !== undefined) {
        this.hold(id, p, r);
        return;
      }
      // Unknown publisher: the module knows its cursor; this request asks it.
      p.probe = r.seq;
      if (!this.launch(id, p, r)) {
        // Not sent: the others wait for its retry; the module corrects the guess if it is wrong.
        p.probe = undefined;
        p.next = r.seq;
      }
    } else if (r.seq === p.next) {
      if (this.launch(id, p, r)) this.drain(id, p);
    } else if (r.seq < p.next) {
      // Older than next: a repeat the module answers (duplicates) or a retry of one that failed.
      this.launch(id, p, r);
    } else {
      this.hold(id, p, r);
    }
  }

  private hold(id: string, p: Publisher<T>, r: Request<T>): void {
    const expected = p.next ?? p.committed + 1n;
    if (this.heldCount >= this.o.maxHeld) {
      r.reject(outOfOrder(id, expected, r.seq, 'arrived early and the hold is full'));
      return;
    }
    const setTimer = this.o.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    const timer = setTimer(() => {
      if (p.held.get(r.seq)?.timer !== timer) return;
      p.held.delete(r.seq);
      this.heldCount -= 1;
      const now = p.next ?? p.committed + 1n;
      r.reject(outOfOrder(id, now, r.seq, `waited ${this.o.holdMs} ms for its predecessors`));
    }, this.o.holdMs);
    p.held.set(r.seq, { ...r, timer });
    this.heldCount += 1;
  }

  /** Starts every held request that has become next, in seq order. */
  private drain(id: string, p: Publisher<T>): void {
    for (;;) {
      if (p.next === undefined) return;
      const h = p.held.get(p.next);
      if (!h) return;
      p.held.delete(h.seq);
      this.heldCount -= 1;
      (this.o.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout)))(h.timer);
      // A start refused at once leaves next at its seq: the successors keep waiting.
      if (!this.launch(id, p, h)) return;
    }
  }

  /** Starts `r`; false when the start was refused at once (then `r` is already answered). */
  private launch(id: string, p: Publisher<T>, r: Request<T>): boolean {
    let run: Promise<T>;
    try {
      run = r.start();
    } catch (e) {
      r.reject(e);
      return false;
    }
    p.started.set(r.seq, r.promise);
    if (p.next !== undefined && r.seq === p.next) this.advance(p, r.seq);
    for (const old of p.started.keys()) {
      if (p.started.size <= this.o.remember) break;
      p.started.delete(old);
    }
    run.then(
      (v) => {
        this.committed(id, p, r.seq);
        r.resolve(v);
      },
      (e: unknown) => this.failed(id, p, r, e),
    );
    return true;
  }

  /** Next is past `seq` and past every successor already started (they are in flight after it). */
  private advance(p: Publisher<T>, seq: bigint): void {
    p.next = seq + 1n;
    while (p.started.has(p.next)) p.next += 1n;
  }

  private committed(id: string, p: Publisher<T>, seq: bigint): void {
    if (p.probe === seq) p.probe = undefined;
    if (seq > p.committed) p.committed = seq;
    if (p.next === undefined || p.next <= seq) this.advance(p, seq);
    this.drain(id, p);
  }

  private failed(id: string, p: Publisher<T>, r: Request<T>, e: unknown): void {
    if (p.started.get(r.seq) === r.promise) p.started.delete(r.seq);
    if (p.probe === r.seq) p.probe = undefined;
    const expected = moduleExpects(e);
    if (expected !== undefined) {
      // The module holds it back for a predecessor: nothing applied. Wait for that one here again.
      p.next = expected > p.committed ? expected : p.committed + 1n;
      this.place(id, p, r);
      this.drain(id, p);
      return;
    }
    // Not applied: its retry must take its place before anything after it.
    if (p.next === undefined || r.seq < p.next) p.next = r.seq;
    r.reject(e);
  }
}
