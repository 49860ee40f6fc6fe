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

export type StreamState =
  /** No connection, or the connection has not read the stream's row yet. */
  | { readonly kind: 'idle' }
  /** The first event subscription (after connecting or a rebootstrap) is in flight; nothing is taken yet. */
  | { readonly kind: 'subscribing'; readonly sub: SubId; readonly plan: SubscriptionPlan }
  /**
   * `sub` is applied and its rows are being delivered: a replay window (`plan.upper` set), or the
   * first stretch of the open tail until the application has caught up. `next` replaces `sub` when applied.
   */
  | {
      readonly kind: 'replaying';
      readonly sub: SubId;
      readonly plan: SubscriptionPlan;
      readonly next?: Replacement;
    }
  /** Caught up; new events arrive on `sub`. `since` counts deliveries toward the next rollover. */
  | { readonly kind: 'live'; readonly sub: SubId; readonly since: number; readonly next?: Replacement }
  /** History moved under the client: waiting for the jittered delay and the application's reset. */
  | { readonly kind: 'rebootstrapping'; readonly reason: RebootstrapReason };

export type StreamKind = StreamState['kind'];

export type StreamEvent =
  /** The connection has read the stream's row (`StreamContext.head`). */
  | { readonly type: 'stream_row' }
  /** Subscription `sub` is applied; its rows are in the SDK's cache. */
  | { readonly type: 'applied'; readonly sub: SubId }
  /** Everything delivered from `sub`'s snapshot has been applied by the application. */
  | { readonly type: 'drained'; readonly sub: SubId }
  /** `count` events were delivered while live. */
  | { readonly type: 'delivered'; readonly count: number }
  /** Events held back behind a gap seen on `sub` stayed missing for the re-fetch delay. */
  | { readonly type: 'gap_timeout'; readonly sub: SubId }
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
  readonly rolloverEvents: number;
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
    case 'stream_row': {
      if (s.kind !== 'idle') return stay;
      const reason = staleness(ctx.position, ctx.head);
      if (reason) return rebootstrap(reason, []);
      return subscribeFirst(ctx);
    }
    case 'rebootstrapped':
      return s.kind === 'rebootstrapping' ? subscribeFirst(ctx) : stay;
    case 'applied': {
      if (s.kind === 'subscribing' && s.sub === e.sub) return activate(e.sub, s.plan, 'replaying', [], ctx);
      if ((s.kind === 'replaying' || s.kind === 'live') && s.next?.sub === e.sub)
        return activate(e.sub, s.next.plan, s.kind, [{ type: 'unsubscribe', sub: s.sub }], ctx);
      return stay;
    }
    case 'drained': {
      if (s.kind !== 'replaying' || s.sub !== e.sub || s.next) return stay;
      if (s.plan.upper === undefined) return { state: { kind: 'live', sub: s.sub, since: 0 }, effects: [] };
      // The next window; one that moved nothing (history changed under it) falls back to the open
      // tail rather than asking for the same window again.
      return replaceWith(s, ctx, ctx.position.watermark > s.plan.from);
    }
    case 'delivered': {
      if (s.kind !== 'live') return stay;
      const since = s.since + e.count;
      // The SDK caches every row a subscription matched: a fresh one from the watermark lets the
      // old one (and its rows) go. A replay window is replaced by the next one anyway.
      if (since >= ctx.rolloverEvents && !s.next) return replaceWith({ ...s, since: 0 }, ctx, true);
      return { state: { ...s, since }, effects: [] };
    }
    case 'gap_timeout':
      // A fresh subscription from the watermark returns exactly the missing rows.
      if ((s.kind === 'replaying' || s.kind === 'live') && s.sub === e.sub && !s.next)
        return replaceWith(s, ctx, true);
      return stay;
    case 'stream_updated': {
      if (s.kind !== 'replaying' && s.kind !== 'live') return stay;
      const reason = staleness(ctx.position, ctx.head);
      return reason ? rebootstrap(reason, [{ type: 'unsubscribe', sub: s.sub }]) : stay;
    }
  }
}

function rebootstrap(reason: RebootstrapReason, effects: StreamEffect[]): StreamTransition {
  return {
    state: { kind: 'rebootstrapping', reason },
    effects: [...effects, { type: 'rebootstrap', reason }],
  };
}

function subscribeFirst(ctx: StreamContext): StreamTransition {
  const plan = planFrom(ctx, true);
  const sub = ctx.newSub();
  return { state: { kind: 'subscribing', sub, plan }, effects: [{ type: 'subscribe', sub, plan }] };
}

function replaceWith(
  s: Extract<StreamState, { kind: 'replaying' | 'live' }>,
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
  kind: 'replaying' | 'live',
  effects: StreamEffect[],
  ctx: StreamContext,
): StreamTransition {
  // An epoch change or truncation that landed while this subscription was being set up (or while a
  // rebootstrap was in progress) is only visible in the stream row: check it first.
  const reason = staleness(ctx.position, ctx.head);
  if (reason) return rebootstrap(reason, [...effects, { type: 'unsubscribe', sub }]);
  effects.push({ type: 'deliver_snapshot', sub, plan });
  if (kind === 'live' && plan.upper === undefined) return { state: { kind: 'live', sub, since: 0 }, effects };
  return { state: { kind: 'replaying', sub, plan }, effects };
}

function planFrom(ctx: StreamContext, allowWindow: boolean): SubscriptionPlan {
  return planSubscription(ctx.position.watermark, ctx.head?.headSeq ?? 0n, ctx.replayWindow, allowWindow);
}
