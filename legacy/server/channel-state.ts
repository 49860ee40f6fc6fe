/**
 * The `sync:v1` channel of one socket as an explicit state machine: a tagged union and one pure
 * transition function returning the next state and the frames to send. The connection feeds it client
 * frames, journal notifications, drain passes and heartbeat ticks, one at a time.
 *
 *   idle ──phx_join sync:v1──► joined ──phx_leave / idle timeout / unknown event / slow consumer──► idle
 *
 * Behaviour follows the generation-1 channel (fact sheet §2, §4–§9); where the original crashed
 * (an unknown event has no handler there), the channel stops with `phx_error`, as Phoenix reports a
 * crashed channel, and the socket stays open.
 */
import type { Principal } from '../auth/claims.js';
import { type PhoenixFrame, push, reply, SYNC_CHANNEL } from '../protocol/frames.js';
import { khalaFrame, type TopicWatermark } from '../protocol/payloads.js';
import { staleCursorPayload, staleTopics } from '../protocol/stale-cursor.js';
import {
  isPayloadObject,
  normalizeTopics,
  parseResumeAfter,
  replayBatchSize,
} from '../protocol/subscribe-request.js';
import type { PolicyOverrides } from '../protocol/topic-policy.js';
import { type JournalView, readBatch, replayTopic } from './batches.js';

export type ChannelState =
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'joined';
      readonly joinRef: string | null;
      readonly subscriptionId: string;
      readonly allowedTopics: readonly string[];
      readonly subscribed: readonly string[];
      readonly watermarks: ReadonlyMap<string, number>;
      /** Live queue of distinct topics with news (§7 "Live tail"). */
      readonly pending: readonly string[];
      readonly lastClientPushMs: number;
      readonly strikes: number;
    };

export type ChannelEvent =
  | { readonly type: 'client'; readonly frame: PhoenixFrame }
  | { readonly type: 'notify'; readonly topic: string }
  | { readonly type: 'drain' }
  | { readonly type: 'tick' };

export interface ChannelConfig {
  readonly servedTopics: ReadonlySet<string>;
  readonly policy: PolicyOverrides;
  /** The configured batch size (200): live reads, and replay unless the client asks otherwise. */
  readonly batchSize: number;
  readonly heartbeatTimeoutMs: number;
  readonly drainTopicsPerTick: number;
  readonly queueLimit: number;
  readonly maxStrikes: number;
  readonly reconnectAfterMs: number;
}

export interface ChannelDeps extends ChannelConfig {
  readonly journal: JournalView;
  readonly principal: Principal;
  readonly nowMs: number;
}

export interface Transition {
  readonly state: ChannelState;
  readonly out: readonly PhoenixFrame[];
  /** Another drain pass is due. */
  readonly drain: boolean;
}

export const IDLE: ChannelState = { kind: 'idle' };

type Joined = Extract<ChannelState, { kind: 'joined' }>;

const done = (state: ChannelState, out: PhoenixFrame[] = [], drain = false): Transition => ({
  state,
  out,
  drain,
});

function watermarksOf(s: Joined): TopicWatermark[] {
  return s.subscribed.map((topic) => ({ topic, watermark: s.watermarks.get(topic) ?? 0 }));
}

function join(frame: PhoenixFrame, d: ChannelDeps, before: ChannelState): Transition {
  const out: PhoenixFrame[] = [];
  // Phoenix closes an existing channel of the same topic when it is joined again.
  if (before.kind === 'joined') out.push(push(before.joinRef, SYNC_CHANNEL, 'phx_close', {}));
  const allowedTopics = d.principal.scopes.filter((t) => d.servedTopics.has(t));
  const subscriptionId = `sub_sync_session:${d.principal.sessionId}`;
  out.push(
    reply(frame, 'ok', {
      subscription_id: subscriptionId,
      allowed_topics: allowedTopics,
      current_watermarks: [],
    }),
  );
  return done(
    {
      kind: 'joined',
      joinRef: frame.joinRef,
      subscriptionId,
      allowedTopics,
      subscribed: [],
      watermarks: new Map(),
      pending: [],
      lastClientPushMs: d.nowMs,
      strikes: 0,
    },
    out,
  );
}

function subscribe(s: Joined, frame: PhoenixFrame, d: ChannelDeps): Transition {
  const bad = () => done(s, [reply(frame, 'error', { code: 'bad_subscription' })]);
  const payload = frame.payload;
  if (!isPayloadObject(payload)) return bad();
  const topics = normalizeTopics(payload.topics);
  if (!topics) return bad();
  const unknown = topics.filter((t) => !d.servedTopics.has(t));
  const forbidden = unknown.length > 0 ? unknown : topics.filter((t) => !s.allowedTopics.includes(t));
  if (forbidden.length > 0) {
    return done(s, [reply(frame, 'error', { code: 'forbidden_topic', forbidden_topics: forbidden })]);
  }
  const resumeAfter = parseResumeAfter(payload.resume_after);
  if (!resumeAfter) return bad();
  const stale = staleTopics(topics, resumeAfter, d.journal, d.policy);
  if (stale.length > 0) {
    const error = staleCursorPayload(stale, d.policy);
    return done(s, [
      push(s.joinRef, SYNC_CHANNEL, 'sync:error', error),
      push(
        s.joinRef,
        SYNC_CHANNEL,
        'sync:frame',
        khalaFrame(stale[0]!.topic, 0, 'KHALA_FRAME_KIND_ERROR', error),
      ),
      reply(frame, 'error', error),
    ]);
  }
  const batchSize = replayBatchSize(payload) ?? d.batchSize;
  const watermarks = new Map(s.watermarks);
  const out: PhoenixFrame[] = [];
  for (const topic of topics) {
    const start = resumeAfter.get(topic) ?? watermarks.get(topic) ?? 0;
    const replay = replayTopic(d.journal, s.joinRef, topic, start, batchSize);
    out.push(...replay.frames);
    watermarks.set(topic, replay.reached);
  }
  const subscribed = [...s.subscribed, ...topics.filter((t) => !s.subscribed.includes(t))];
  out.push(
    reply(frame, 'ok', {
      subscription_id: s.subscriptionId,
      topics,
      current_watermarks: topics.map((topic) => ({ topic, watermark: watermarks.get(topic) ?? 0 })),
    }),
  );
  return done({ ...s, subscribed, watermarks, lastClientPushMs: d.nowMs }, out, s.pending.length > 0);
}

function unsubscribe(s: Joined, frame: PhoenixFrame, d: ChannelDeps): Transition {
  const topics = isPayloadObject(frame.payload) ? normalizeTopics(frame.payload.topics) : undefined;
  if (!topics) return done(s, [reply(frame, 'error', { code: 'bad_subscription' })]);
  const subscribed = s.subscribed.filter((t) => !topics.includes(t));
  const watermarks = new Map([...s.watermarks].filter(([t]) => !topics.includes(t)));
  const pending = s.pending.filter((t) => !topics.includes(t));
  return done({ ...s, subscribed, watermarks, pending, lastClientPushMs: d.nowMs }, [
    reply(frame, 'ok', { subscription_id: s.subscriptionId, topics: subscribed }),
  ]);
}

function heartbeat(s: Joined, frame: PhoenixFrame, d: ChannelDeps): Transition {
  const watermarks = watermarksOf(s);
  return done({ ...s, lastClientPushMs: d.nowMs }, [
    push(s.joinRef, SYNC_CHANNEL, 'sync:heartbeat', { watermarks }),
    reply(frame, 'ok', { subscription_id: s.subscriptionId, watermarks }),
  ]);
}

function notify(s: Joined, topic: string, d: ChannelDeps): Transition {
  if (!s.subscribed.includes(topic) || s.pending.includes(topic)) return done(s);
  if (s.pending.length < d.queueLimit) return done({ ...s, pending: [...s.pending, topic] }, [], true);
  // §9 slow consumer: the queue of distinct pending topics overflowed.
  const strikes = s.strikes + 1;
  const action = strikes >= d.maxStrikes ? 'disconnect' : 'throttle';
  const error = {
    code: 'slow_consumer',
    message: 'client cannot keep up with live fanout',
    action,
    topic,
    queue_depth: s.pending.length + 1,
    queue_limit: d.queueLimit,
    reconnect_after_ms: d.reconnectAfterMs,
    full_resync_required: action === 'disconnect',
  };
  const out = [
    push(s.joinRef, SYNC_CHANNEL, 'sync:error', error),
    push(s.joinRef, SYNC_CHANNEL, 'sync:frame', khalaFrame(topic, 0, 'KHALA_FRAME_KIND_ERROR', error)),
  ];
  if (action === 'disconnect') return done(IDLE, [...out, push(s.joinRef, SYNC_CHANNEL, 'phx_error', {})]);
  return done({ ...s, strikes }, out);
}

function drain(s: Joined, d: ChannelDeps): Transition {
  const pending = [...s.pending];
  const watermarks = new Map(s.watermarks);
  const out: PhoenixFrame[] = [];
  for (let i = 0; i < d.drainTopicsPerTick && pending.length > 0; i++) {
    const topic = pending.shift()!;
    const read = readBatch(d.journal, s.joinRef, topic, watermarks.get(topic) ?? 0, d.batchSize);
    out.push(...read.frames);
    watermarks.set(topic, read.reached);
    if (!read.complete && !pending.includes(topic)) pending.push(topic);
  }
  return done({ ...s, pending, watermarks }, out, pending.length > 0);
}

function tick(s: Joined, d: ChannelDeps): Transition {
  if (d.nowMs - s.lastClientPushMs > d.heartbeatTimeoutMs) {
    return done(IDLE, [push(s.joinRef, SYNC_CHANNEL, 'phx_close', {})]);
  }
  return done(s, [push(s.joinRef, SYNC_CHANNEL, 'sync:heartbeat', { watermarks: watermarksOf(s) })]);
}

function clientFrame(s: ChannelState, frame: PhoenixFrame, d: ChannelDeps): Transition {
  if (frame.event === 'phx_join') {
    return frame.topic === SYNC_CHANNEL
      ? join(frame, d, s)
      : done(s, [reply(frame, 'error', { code: 'bad_topic' })]);
  }
  if (s.kind !== 'joined' || frame.topic !== SYNC_CHANNEL) {
    return done(s, [reply(frame, 'error', { reason: 'unmatched topic' })]);
  }
  switch (frame.event) {
    case 'sync:subscribe':
      return subscribe(s, frame, d);
    case 'sync:unsubscribe':
      return unsubscribe(s, frame, d);
    case 'sync:heartbeat':
      return heartbeat(s, frame, d);
    case 'phx_leave':
      return done(IDLE, [reply(frame, 'ok', {}), push(s.joinRef, SYNC_CHANNEL, 'phx_close', {})]);
    default:
      return done(IDLE, [push(s.joinRef, SYNC_CHANNEL, 'phx_error', {})]);
  }
}

/** The one transition function. Pure: the journal is read, never written. */
export function transition(s: ChannelState, e: ChannelEvent, d: ChannelDeps): Transition {
  if (e.type === 'client') return clientFrame(s, e.frame, d);
  if (s.kind !== 'joined') return done(s);
  switch (e.type) {
    case 'notify':
      return notify(s, e.topic, d);
    case 'drain':
      return drain(s, d);
    case 'tick':
      return tick(s, d);
  }
}
