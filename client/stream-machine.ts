/**
 * One stream's lifecycle inside an open connection, as a tagged union with one transition function.
 * Pure: the runtime (stream-runner.ts) feeds it events and carries out the effects it returns. An
 * event that does not fit the state (a subscription that is no longer wanted, a timer from before a
 * rebootstrap) returns the same state object and no effects. `STREAM_SPEC` is the table the tests
 * drive and STATE-MACHINE.md is rendered from.
 */
import {
  planSubscription,
  type RebootstrapReason,
  type StreamHead,
  type StreamPosition,
  type SubscriptionPlan,
  staleness,
} from './subscription-plan.js';

/** Identifies one event subscription the machine asked for; numbers are never reused. */
export type SubId = number;

interface Replacement {
  readonly sub: SubId;
  readonly plan: SubscriptionPlan;
}

/** The window after the one being delivered, subscribed ahead; `applied` once its rows are in the cache. */
interface Prefetch extends Replacement {
  readonly applied: boolean;
}

export type StreamState =
  /** No connection yet. */
  | { readonly kind: 'idle' }
  /**
   * The first event subscription (after connecting or a rebootstrap) is asked for; nothing is taken
   * yet. After connecting it is sent together with the stream rows' subscription, so it may be
   * applied before the stream's row is read (`rowRead`); it is only delivered from once the row is
   * read and shows the client can resume (`applied` remembers that it is ready).
   */
  | {
      readonly kind: 'subscribing';
      readonly sub: SubId;
      readonly plan: SubscriptionPlan;
      readonly rowRead: boolean;
      readonly applied: boolean;
    }
  /**
   * `sub` is applied and its rows are being delivered: a replay window (`plan.upper` set), or the
   * first stretch of the open tail until the application has caught up. `next` replaces `sub` when
   * applied (a gap re-fetch). `ahead` is the following window, subscribed as soon as this one was
   * applied so the host evaluates it while this one is delivered; it takes over once this one is
   * drained and it is applied, whichever comes last (at most one window ahead: the cache holds
   * about two windows).
   */
  | {
      readonly kind: 'replaying';
      readonly sub: SubId;
      readonly plan: SubscriptionPlan;
      readonly next?: Replacement;
      readonly ahead?: Prefetch;
      /** This window is drained; waiting for `ahead` to be applied. */
      readonly drained?: true;
    }
  /**
   * Caught up: new events arrive through the live event table (`sync_event_live`, subscribed with
   * the stream's row for the whole connection), so no event subscription is held and nothing is
   * cached. `refetch` is a one-off `seq > watermark` subscription asking again for seqs a gap left
   * missing; it is dropped once its rows are delivered.
   */
  | { readonly kind: 'live'; readonly refetch?: Replacement }
  /** History moved under the client: waiting for the jittered delay and the application's reset. */
  | { readonly kind: 'rebootstrapping'; readonly reason: RebootstrapReason };

export type StreamKind = StreamState['kind'];

export type StreamEvent =
  /** The connection is identified and has asked for the stream's row; the row is not read yet. */
  | { readonly type: 'connected' }
  /** The connection has read the stream's row (`StreamContext.head`). */
  | { readonly type: 'stream_row' }
  /** Subscription `sub` is applied; its rows are in the SDK's cache. */
  | { readonly type: 'applied'; readonly sub: SubId }
  /** Everything delivered from `sub`'s snapshot has been applied by the application. */
  | { readonly type: 'drained'; readonly sub: SubId }
  /** Events held back behind a gap stayed missing for the re-fetch delay. */
  | { readonly type: 'gap_timeout' }
  /** The stream's row changed (new epoch, retention, head). */
  | { readonly type: 'stream_updated' }
  /** The application reset the stream and the client's position is the new low watermark − 1. */
  | { readonly type: 'rebootstrapped' }
  | { readonly type: 'connection_lost' };

export type StreamEffect =
  | { readonly type: 'subscribe'; readonly sub: SubId; readonly plan: SubscriptionPlan }
  | { readonly type: 'unsubscribe'; readonly sub: SubId }
  /** Offer the cached rows past `plan.from` to the applier, then report `drained` for `sub`. */
  | { readonly type: 'deliver_snapshot'; readonly sub: SubId; readonly plan: SubscriptionPlan }
  | { readonly type: 'rebootstrap'; readonly reason: RebootstrapReason };

/** What the machine reads but does not own: the applier's position and the server's row, as of this event. */
export interface StreamContext {
  readonly position: StreamPosition;
  readonly head: StreamHead | undefined;
  readonly replayWindow: bigint | undefined;
  newSub(): SubId;
}

export interface StreamTransition {
  readonly state: StreamState;
  readonly effects: readonly StreamEffect[];
}

export const IDLE: StreamState = { kind: 'idle' };

export function transitionStream(s: StreamState, e: StreamEvent, ctx: StreamContext): StreamTransition {
  const stay: StreamTransition = { state: s, effects: [] };
  switch (e.type) {
    case 'connection_lost':
      // Every subscription died with the socket.
      return s.kind === 'idle' ? stay : { state: IDLE, effects: [] };
    case 'connected': {
      if (s.kind !== 'idle') return stay;
      // The backlog is not known before the row is read: a first window (or the open tail without
      // windows). A backlog shorter than the window is all in it; a longer one goes on window by window.
      const { watermark } = ctx.position;
      const plan: SubscriptionPlan =
        ctx.replayWindow === undefined
          ? { from: watermark }
          : { from: watermark, upper: watermark + ctx.replayWindow };
      const sub = ctx.newSub();
      return {
        state: { kind: 'subscribing', sub, plan, rowRead: false, applied: false },
        effects: [{ type: 'subscribe', sub, plan }],
      };
    }
    case 'stream_row': {
      if (s.kind !== 'subscribing' || s.rowRead) return stay;
      const reason = staleness(ctx.position, ctx.head);
      // Stale: the subscription sent with the row's is not wanted (dropped once applied, if it is not yet).
      if (reason) return rebootstrap(reason, [{ type: 'unsubscribe', sub: s.sub }]);
      if (s.applied) return activate(s.sub, s.plan, [], ctx);
      return { state: { ...s, rowRead: true }, effects: [] };
    }
    case 'rebootstrapped':
      return s.kind === 'rebootstrapping' ? subscribeFirst(ctx) : stay;
    case 'applied': {
      if (s.kind === 'subscribing' && s.sub === e.sub) {
        // Ready, but nothing is taken from it before the row says the client can resume.
        if (!s.rowRead) return s.applied ? stay : { state: { ...s, applied: true }, effects: [] };
        return activate(e.sub, s.plan, [], ctx);
      }
      if (s.kind === 'replaying' && s.next?.sub === e.sub)
        return activate(e.sub, s.next.plan, [{ type: 'unsubscribe', sub: s.sub }], ctx);
      if (s.kind === 'replaying' && s.ahead?.sub === e.sub) {
        // Its rows are in the cache (and offered as they arrived); it takes over once this window is drained.
        if (s.drained) return activate(e.sub, s.ahead.plan, [{ type: 'unsubscribe', sub: s.sub }], ctx);
        return { state: { ...s, ahead: { ...s.ahead, applied: true } }, effects: [] };
      }
      if (s.kind === 'live' && s.refetch?.sub === e.sub) {
        const reason = staleness(ctx.position, ctx.head);
        if (reason) return rebootstrap(reason, [{ type: 'unsubscribe', sub: e.sub }]);
        return { state: s, effects: [{ type: 'deliver_snapshot', sub: e.sub, plan: s.refetch.plan }] };
      }
      return stay;
    }
    case 'drained': {
      // A re-fetch has delivered what was missing: its rows are not needed in the cache any more.
      if (s.kind === 'live' && s.refetch?.sub === e.sub)
        return { state: { kind: 'live' }, effects: [{ type: 'unsubscribe', sub: e.sub }] };
      if (s.kind !== 'replaying' || s.sub !== e.sub || s.next || s.drained) return stay;
      // Caught up: from here on the live event table carries every new event (it was subscribed
      // before this replay, so nothing committed after the replay's snapshot is missed); the replay
      // subscription and its cached rows go.
      if (s.plan.upper === undefined)
        return { state: { kind: 'live' }, effects: [{ type: 'unsubscribe', sub: s.sub }] };
      if (s.ahead) {
        const ahead = s.ahead;
        // Every seq of this window was taken (the window ahead's rows, offered as they arrived, may
        // already be past it): the window ahead follows on without a gap.
        if (ctx.position.watermark >= s.plan.upper) {
          if (ahead.applied)
            return activate(ahead.sub, ahead.plan, [{ type: 'unsubscribe', sub: s.sub }], ctx);
          return { state: { ...s, drained: true }, effects: [] };
        }
        // It did not (history changed under it): drop the prefetch and plan from the watermark.
        const t = replaceWith({ ...s, ahead: undefined }, ctx, ctx.position.watermark > s.plan.from);
        return { state: t.state, effects: [{ type: 'unsubscribe', sub: ahead.sub }, ...t.effects] };
      }
      // The next window; one that moved nothing (history changed under it) falls back to the open
      // tail rather than asking for the same window again.
      return replaceWith(s, ctx, ctx.position.watermark > s.plan.from);
    }
    case 'gap_timeout': {
      // A fresh subscription from the watermark returns exactly the missing rows (a window
      // subscribed ahead is dropped: the replacement covers it).
      if (s.kind === 'replaying' && !s.next) {
        const dropAhead: StreamEffect[] = s.ahead ? [{ type: 'unsubscribe', sub: s.ahead.sub }] : [];
        const t = replaceWith({ ...s, ahead: undefined, drained: undefined }, ctx, true);
        return { state: t.state, effects: [...dropAhead, ...t.effects] };
      }
      if (s.kind === 'live' && !s.refetch) {
        const plan = planFrom(ctx, false);
        const sub = ctx.newSub();
        return {
          state: { kind: 'live', refetch: { sub, plan } },
          effects: [{ type: 'subscribe', sub, plan }],
        };
      }
      return stay;
    }
    case 'stream_updated': {
      if (s.kind !== 'replaying' && s.kind !== 'live') return stay;
      const reason = staleness(ctx.position, ctx.head);
      if (!reason) return stay;
      const held =
        s.kind === 'replaying'
          ? [s.sub, ...(s.ahead ? [s.ahead.sub] : [])]
          : s.refetch
            ? [s.refetch.sub]
            : [];
      return rebootstrap(
        reason,
        held.map((sub) => ({ type: 'unsubscribe', sub })),
      );
    }
  }
}

function rebootstrap(reason: RebootstrapReason, effects: StreamEffect[]): StreamTransition {
  return {
    state: { kind: 'rebootstrapping', reason },
    effects: [...effects, { type: 'rebootstrap', reason }],
  };
}

/** After a rebootstrap: the row is read, so the plan knows the backlog. */
function subscribeFirst(ctx: StreamContext): StreamTransition {
  const plan = planFrom(ctx, true);
  const sub = ctx.newSub();
  return {
    state: { kind: 'subscribing', sub, plan, rowRead: true, applied: false },
    effects: [{ type: 'subscribe', sub, plan }],
  };
}

function replaceWith(
  s: Extract<StreamState, { kind: 'replaying' }>,
  ctx: StreamContext,
  allowWindow: boolean,
): StreamTransition {
  const plan = planFrom(ctx, allowWindow);
  const sub = ctx.newSub();
  return { state: { ...s, next: { sub, plan } }, effects: [{ type: 'subscribe', sub, plan }] };
}

/** A newly applied subscription takes over, unless the stream's row shows it went stale meanwhile. */
function activate(
  sub: SubId,
  plan: SubscriptionPlan,
  effects: StreamEffect[],
  ctx: StreamContext,
): StreamTransition {
  // An epoch change or truncation that landed while this subscription was being set up (or while a
  // rebootstrap was in progress) is only visible in the stream row: check it first.
  const reason = staleness(ctx.position, ctx.head);
  if (reason) return rebootstrap(reason, [...effects, { type: 'unsubscribe', sub }]);
  effects.push({ type: 'deliver_snapshot', sub, plan });
  // A window with more backlog after it: subscribe the next one now, so the host evaluates it while
  // this one is delivered (a first window that holds the whole backlog goes on as before).
  if (plan.upper !== undefined && (ctx.head?.headSeq ?? 0n) > plan.upper) {
    const aheadPlan = planSubscription(plan.upper, ctx.head?.headSeq ?? 0n, ctx.replayWindow);
    const aheadSub = ctx.newSub();
    effects.push({ type: 'subscribe', sub: aheadSub, plan: aheadPlan });
    return {
      state: { kind: 'replaying', sub, plan, ahead: { sub: aheadSub, plan: aheadPlan, applied: false } },
      effects,
    };
  }
  return { state: { kind: 'replaying', sub, plan }, effects };
}

function planFrom(ctx: StreamContext, allowWindow: boolean): SubscriptionPlan {
  return planSubscription(ctx.position.watermark, ctx.head?.headSeq ?? 0n, ctx.replayWindow, allowWindow);
}
