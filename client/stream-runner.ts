/**
 * Runs one stream's machine (stream-machine.ts) against a connection: feeds it the SDK's callbacks,
 * carries out its effects (subscriptions, deliveries, rebootstraps), and owns what the machine reads
 * — the applier (the watermark), the epoch, and the application's delivery chain. Everything the
 * application sees runs on that chain, one call at a time: events and rebootstraps alike.
 */
import { SyncClientError } from './client-error.js';
import type { CursorStore } from './cursor-store.js';
import { type RebootstrapGuard, RebootstrapLoopError } from './rebootstrap-guard.js';
import type { SdkSession, Subscription, SyncEvent } from './sdk-session.js';
import { StreamApplier } from './stream-applier.js';
import {
  IDLE,
  type StreamEffect,
  type StreamEvent,
  type StreamState,
  type SubId,
  transitionStream,
} from './stream-machine.js';
import { emptyHead, eventQuery, type RebootstrapReason, type StreamPosition } from './subscription-plan.js';
import type { Timers } from './timers.js';

export interface RebootstrapInfo {
  readonly streamId: string;
  readonly reason: RebootstrapReason;
  /** The stream's retained history starts here; the client replays from it after the callback. */
  readonly lowWatermark: bigint;
  readonly epoch: bigint;
  readonly head: bigint;
}

/** Where a stream starts: its stored cursor, or a seq given by the caller (epoch learnt from the stream). */
export type StartPosition = StreamPosition;

export interface StreamRunnerOptions {
  readonly store: CursorStore;
  onEvent(streamId: string, event: SyncEvent): void | Promise<void>;
  onRebootstrap?(info: RebootstrapInfo): void | Promise<void>;
  onProgress?(streamId: string, applied: bigint, head: bigint): void;
  readonly replayWindow: bigint | undefined;
  readonly gapRefetchMs: number;
}

export interface StreamRunnerHooks {
  readonly guard: RebootstrapGuard;
  readonly timers: Timers;
  /** The stream was reset: nothing of the new epoch is acked yet. */
  rebootstrapped(streamId: string): void;
  /** The database refused one of this stream's subscriptions. */
  refused(detail: string): void;
  fatal(error: SyncClientError): void;
  /** The machine moved (the client's reported state may change). */
  changed(): void;
}

export class StreamRunner {
  private machine: StreamState = IDLE;
  private session: SdkSession | undefined;
  private readonly subscriptions = new Map<SubId, Subscription>();
  private lastSub = 0;
  private gapTimer = false;
  /** Deliveries to the application (and rebootstraps), one at a time. */
  chain: Promise<void> = Promise.resolve();
  /** Events of the last queued delivery step that has not started yet (later events join it). */
  private batch: SyncEvent[] | undefined;
  /** The first failure of the application (or its cursor store), latched: nothing queued after it runs. */
  private failure: unknown;
  epoch: bigint | undefined;
  private applier: StreamApplier<SyncEvent>;
  private appliedSeq: bigint;

  constructor(
    readonly id: string,
    private readonly options: StreamRunnerOptions,
    private readonly hooks: StreamRunnerHooks,
    cursor: StartPosition | undefined,
  ) {
    this.epoch = cursor?.epoch;
    this.applier = new StreamApplier(cursor?.watermark ?? 0n);
    this.appliedSeq = this.applier.watermark;
  }

  get state(): StreamState {
    return this.machine;
  }

  /** Last seq the application applied (the applier may have taken more, still on their way to it). */
  get applied(): bigint {
    return this.appliedSeq;
  }

  /** The connection is identified and has asked for the stream's row (not read yet). */
  attach(session: SdkSession): void {
    this.session = session;
    this.dispatch({ type: 'connected' });
  }

  /** The connection has read the stream's row. */
  rowRead(): void {
    this.adoptEpoch();
    this.dispatch({ type: 'stream_row' });
  }

  /** The connection is gone, or the client stops taking events. */
  detach(): void {
    this.session = undefined;
    this.subscriptions.clear();
    this.dispatch({ type: 'connection_lost' });
  }

  /**
   * A row of a replay subscription or of the live event table. Before the replay's snapshot is
   * applied (`subscribing`) a live row is dropped: the snapshot, taken after the live subscription
   * was in place, holds it. From then on every row is offered and the applier drops the duplicates.
   */
  eventInserted(event: SyncEvent): void {
    if (this.machine.kind === 'replaying' || this.machine.kind === 'live') this.offer([event]);
  }

  streamChanged(updated: boolean): void {
    this.adoptEpoch();
    if (updated) this.dispatch({ type: 'stream_updated' });
  }

  private dispatch(event: StreamEvent): void {
    const session = this.session;
    const t = transitionStream(this.machine, event, {
      position: { epoch: this.epoch, watermark: this.applier.watermark },
      head: session?.head(this.id),
      replayWindow: this.options.replayWindow,
      newSub: () => ++this.lastSub,
    });
    if (t.state === this.machine) return;
    this.machine = t.state;
    for (const fx of t.effects) this.perform(fx);
    this.hooks.changed();
  }

  private perform(fx: StreamEffect): void {
    const session = this.session;
    switch (fx.type) {
      case 'subscribe': {
        if (!session) return;
        const sub = session.subscribe(
          [eventQuery(this.id, fx.plan)],
          () => {
            if (this.session !== session) return;
            this.dispatch({ type: 'applied', sub: fx.sub });
            // Applied but no longer wanted (a rebootstrap or another replacement came first).
            if (!this.holds(fx.sub)) this.unsubscribe(fx.sub, sub);
          },
          (detail) => {
            if (this.session === session) this.hooks.refused(`stream '${this.id}': ${detail}`);
          },
        );
        this.subscriptions.set(fx.sub, sub);
        return;
      }
      case 'unsubscribe':
        this.unsubscribe(fx.sub, this.subscriptions.get(fx.sub));
        return;
      case 'deliver_snapshot': {
        if (!session) return;
        const target = session.head(this.id)?.headSeq ?? 0n;
        this.offer(session.eventsAfter(this.id, fx.plan.from));
        this.options.onProgress?.(this.id, this.applier.watermark, target);
        void this.chain.then(() => this.dispatch({ type: 'drained', sub: fx.sub }));
        return;
      }
      case 'rebootstrap': {
        const entered = this.machine;
        this.enqueue(() => this.rebootstrap(entered, fx.reason));
        return;
      }
    }
  }

  /** Whether the machine still uses subscription `sub`: the one delivered, or the window subscribed ahead. */
  private holds(sub: SubId): boolean {
    const m = this.machine;
    return ('sub' in m && m.sub === sub) || (m.kind === 'replaying' && m.ahead?.sub === sub);
  }

  private unsubscribe(id: SubId, sub: Subscription | undefined): void {
    this.subscriptions.delete(id);
    sub?.drop();
  }

  private offer(rows: SyncEvent[]): void {
    this.adoptEpoch();
    const { deliver, gap } = this.applier.offer(rows);
    if (deliver.length > 0) {
      const open = this.batch;
      // The SDK hands a transaction's rows one callback at a time: while their delivery step has not
      // started, later events join it (one step and one cursor save per batch, not per event).
      if (open) for (const e of deliver) open.push(e);
      else this.deliverStep(deliver);
    }
    if (gap && !this.gapTimer) {
      // Bounded re-fetch: if the missing seqs do not arrive on their own, ask for them again.
      this.gapTimer = true;
      this.hooks.timers.after(this.options.gapRefetchMs, () => {
        this.gapTimer = false;
        if (this.applier.pendingCount > 0) this.dispatch({ type: 'gap_timeout' });
      });
    }
  }

  private deliverStep(first: SyncEvent[]): void {
    const batch = [...first];
    this.enqueue(async () => {
      // Started: events offered from now on go in a later step.
      if (this.batch === batch) this.batch = undefined;
      const before = this.appliedSeq;
      try {
        for (const e of batch) {
          const applied = this.options.onEvent(this.id, e);
          // A synchronous application needs no turn of the event loop per event.
          if (applied !== undefined) await applied;
          this.appliedSeq = e.seq;
        }
      } finally {
        // Up to the last event the application applied, also when a later one failed.
        const epoch = this.epoch;
        if (epoch !== undefined && this.appliedSeq !== before)
          await this.options.store.save(this.id, { epoch, watermark: this.appliedSeq });
      }
    });
    this.batch = batch;
  }

  /**
   * Queues work that calls the application. If it throws, the events after the failed one must not
   * be delivered (that would skip it) nor the cursor move: the client closes with the failure.
   */
  private enqueue(step: () => Promise<void>): void {
    // Whatever is queued now comes after the open batch: nothing offered later may join it.
    this.batch = undefined;
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await step();
      } catch (e) {
        this.failure = e;
        const message = e instanceof Error ? e.message : String(e);
        this.hooks.fatal(
          new SyncClientError('application_failed', `stream '${this.id}': ${message}`, { cause: e }),
        );
      }
    });
  }

  /** A stream created after the client subscribed has no epoch yet: it arrives with its row. */
  private adoptEpoch(): void {
    if (this.epoch === undefined) this.epoch = this.session?.head(this.id)?.epoch;
  }

  /** On the delivery chain; `entered` is the state that asked for it, re-checked after every wait. */
  private async rebootstrap(entered: StreamState, reason: RebootstrapReason): Promise<void> {
    let delay: number;
    try {
      delay = this.hooks.guard.admit(this.id);
    } catch (e) {
      if (!(e instanceof RebootstrapLoopError)) throw e;
      this.hooks.fatal(new SyncClientError('rebootstrap_loop', e.message, { cause: e }));
      return;
    }
    await this.hooks.timers.sleep(delay);
    if (this.machine !== entered || !this.session) return;
    // The stream may have moved again while we waited (another reset, more retention): use it as it is now.
    const head = this.session.head(this.id) ?? emptyHead(this.epoch);
    await this.options.onRebootstrap?.({
      streamId: this.id,
      reason,
      lowWatermark: head.lowWatermark,
      epoch: head.epoch,
      head: head.headSeq,
    });
    // The application has reset: the position follows it whatever happened meanwhile.
    this.epoch = head.epoch;
    this.applier.reset(head.lowWatermark - 1n);
    this.appliedSeq = head.lowWatermark - 1n;
    this.hooks.rebootstrapped(this.id);
    await this.options.store.save(this.id, { epoch: head.epoch, watermark: head.lowWatermark - 1n });
    if (this.machine === entered) this.dispatch({ type: 'rebootstrapped' });
  }
}
