import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LegacyJournal } from '../journal/journal.js';
import type { PhoenixFrame } from '../protocol/frames.js';
import { GEN1_TOPICS } from '../protocol/topic-policy.js';
import { type ChannelDeps, type ChannelEvent, type ChannelState, IDLE, transition } from './channel-state.js';

const RUNS = 'runtime.run_summaries';
const EVENTS = 'runtime.codex_worker_events';
let journal: LegacyJournal;

beforeAll(async () => {
  journal = await LegacyJournal.open(await mkdtemp(join(tmpdir(), 'legacy-channel-')));
  const rows = Array.from({ length: 450 }, (_, i) => ({
    topic: RUNS,
    docKey: `runtime/run_summary:run_${i + 1}`,
    docVersion: i + 1,
    payload: { status: 'running', n: i + 1 },
    streamId: 'runs',
    idempotencyKey: `r${i + 1}`,
  }));
  await journal.append(rows);
});

function deps(nowMs = 1_000, scopes = [RUNS, EVENTS, 'not.served']): ChannelDeps {
  return {
    journal,
    principal: { sub: 'user:1', sessionId: 'sess_a', deviceId: 'd', orgId: 'o', scopes },
    servedTopics: new Set(GEN1_TOPICS),
    policy: {},
    batchSize: 200,
    heartbeatTimeoutMs: 60_000,
    drainTopicsPerTick: 2,
    queueLimit: 64,
    maxStrikes: 3,
    reconnectAfterMs: 2_000,
    nowMs,
  };
}

const client = (ref: string, event: string, payload: unknown, topic = 'sync:v1'): ChannelEvent => ({
  type: 'client',
  frame: { joinRef: ref === '1' ? null : '1', ref, topic, event, payload },
});

function run(events: ChannelEvent[], d = deps()): { state: ChannelState; out: PhoenixFrame[] } {
  let state = IDLE;
  const out: PhoenixFrame[] = [];
  for (const e of events) {
    const t = transition(state, e, d);
    state = t.state;
    out.push(...t.out);
  }
  return { state, out };
}

const joined = () => client('1', 'phx_join', {});
const responseOf = (f: PhoenixFrame | undefined) =>
  (f?.payload as { status: string; response: Record<string, unknown> }) ?? {};

describe('sync:v1 channel', () => {
  it('join replies with sub_<socket id>, the scopes the lane serves, and no watermarks', () => {
    const { state, out } = run([joined()]);
    expect(state.kind).toBe('joined');
    expect(out).toEqual([
      {
        joinRef: null,
        ref: '1',
        topic: 'sync:v1',
        event: 'phx_reply',
        payload: {
          status: 'ok',
          response: {
            subscription_id: 'sub_sync_session:sess_a',
            allowed_topics: [RUNS, EVENTS],
            current_watermarks: [],
          },
        },
      },
    ]);
  });

  it('a join on another topic gets bad_topic; a push before joining gets unmatched topic', () => {
    const { state, out } = run([
      client('1', 'phx_join', {}, 'sync:v2'),
      client('2', 'sync:subscribe', { topics: [RUNS] }),
    ]);
    expect(state.kind).toBe('idle');
    expect(out.map((f) => f.payload)).toEqual([
      { status: 'error', response: { code: 'bad_topic' } },
      { status: 'error', response: { reason: 'unmatched topic' } },
    ]);
  });

  it('subscribe replays in batches of 200, each pushed as update_batch and frame, and replies last', () => {
    const { out } = run([
      joined(),
      client('2', 'sync:subscribe', { topics: [RUNS], resume_after: { [RUNS]: 0 } }),
    ]);
    const pushes = out.slice(1);
    expect(pushes.map((f) => f.event)).toEqual([
      'sync:update_batch',
      'sync:frame',
      'sync:update_batch',
      'sync:frame',
      'sync:update_batch',
      'sync:frame',
      'phx_reply',
    ]);
    const batches = pushes
      .filter((f) => f.event === 'sync:update_batch')
      .map(
        (f) =>
          f.payload as {
            updates: { watermark: number }[];
            replay_complete: boolean;
            head_watermarks: unknown;
          },
      );
    expect(batches.map((b) => [b.updates.length, b.replay_complete])).toEqual([
      [200, false],
      [200, false],
      [50, true],
    ]);
    expect(batches[0]!.head_watermarks).toEqual([{ topic: RUNS, watermark: 450 }]);
    const frame = pushes[1]!.payload as {
      topic: string;
      seq: number;
      kind: string;
      payload_bytes: string;
      schema_version: number;
    };
    expect(frame).toMatchObject({
      topic: RUNS,
      seq: 200,
      kind: 'KHALA_FRAME_KIND_UPDATE_BATCH',
      schema_version: 1,
    });
    expect(JSON.parse(Buffer.from(frame.payload_bytes, 'base64').toString())).toEqual(pushes[0]!.payload);
    expect(pushes.filter((f) => f.event !== 'phx_reply').every((f) => f.joinRef === null)).toBe(true);
    expect(responseOf(pushes.at(-1))).toEqual({
      status: 'ok',
      response: {
        subscription_id: 'sub_sync_session:sess_a',
        topics: [RUNS],
        current_watermarks: [{ topic: RUNS, watermark: 450 }],
      },
    });
  });

  it('accepts the list shape of resume_after and a client replay_batch_size', () => {
    const { out } = run([
      joined(),
      client('2', 'sync:subscribe', {
        topics: [RUNS],
        resume_after: [{ topic: RUNS, watermark: 440 }],
        replay_batch_size: 4,
      }),
    ]);
    const sizes = out
      .filter((f) => f.event === 'sync:update_batch')
      .map((f) => (f.payload as { updates: unknown[] }).updates.length);
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('a topic with nothing after the resume point gets no batch, only its watermark in the reply', () => {
    const { out } = run([
      joined(),
      client('2', 'sync:subscribe', { topics: [EVENTS, RUNS], resume_after: { [RUNS]: 450 } }),
    ]);
    expect(out.slice(1).map((f) => f.event)).toEqual(['phx_reply']);
    expect(responseOf(out[1]).response.current_watermarks).toEqual([
      { topic: EVENTS, watermark: 0 },
      { topic: RUNS, watermark: 450 },
    ]);
  });

  it.each([
    ['a string watermark', { topics: [RUNS], resume_after: { [RUNS]: '5' } }],
    ['a negative watermark', { topics: [RUNS], resume_after: [{ topic: RUNS, watermark: -1 }] }],
    ['no topics', { topics: [' ', 7] }],
    ['topics not a list', { topics: RUNS }],
    ['a payload that is not an object', [RUNS]],
  ])('%s is bad_subscription', (_n, payload) => {
    const { out, state } = run([joined(), client('2', 'sync:subscribe', payload)]);
    expect(responseOf(out[1])).toEqual({ status: 'error', response: { code: 'bad_subscription' } });
    expect(state.kind).toBe('joined');
  });

  it('a topic the lane does not serve, or outside the token scopes, is forbidden_topic', () => {
    const notServed = run([joined(), client('2', 'sync:subscribe', { topics: [RUNS, 'not.served'] })]);
    expect(responseOf(notServed.out[1]).response).toEqual({
      code: 'forbidden_topic',
      forbidden_topics: ['not.served'],
    });
    const outside = run([joined(), client('2', 'sync:subscribe', { topics: ['runtime.notifications'] })]);
    expect(responseOf(outside.out[1]).response).toEqual({
      code: 'forbidden_topic',
      forbidden_topics: ['runtime.notifications'],
    });
  });

  it('a stale cursor is pushed as sync:error and an ERROR frame, then the error reply; nothing is replayed', () => {
    const d = { ...deps(), policy: { [RUNS]: { replayBudgetEvents: 100 } } };
    const { out } = run(
      [
        joined(),
        client('2', 'sync:subscribe', {
          topics: [RUNS],
          resume_after: { [RUNS]: 400 },
          replay_batch_size: 1,
        }),
        client('3', 'sync:subscribe', { topics: [RUNS], resume_after: { [RUNS]: 100 } }),
      ],
      d,
    );
    expect(out.slice(1).map((f) => f.event)).toEqual([
      'sync:update_batch',
      'sync:frame',
      ...Array(49).fill(['sync:update_batch', 'sync:frame']).flat(),
      'phx_reply',
      'sync:error',
      'sync:frame',
      'phx_reply',
    ]);
    const error = out.at(-3)!.payload as { code: string; stale_topics: { reason: string }[] };
    expect(error.code).toBe('stale_cursor');
    expect(error.stale_topics[0]?.reason).toBe('replay_budget_exceeded');
    expect(out.at(-2)!.payload).toMatchObject({ topic: RUNS, seq: 0, kind: 'KHALA_FRAME_KIND_ERROR' });
    expect(responseOf(out.at(-1))).toEqual({ status: 'error', response: error });
  });

  it('live: a notification queues the topic once and a drain reads up to 200 from the channel watermark', () => {
    const d = deps();
    let t = transition(IDLE, joined(), d);
    t = transition(
      t.state,
      client('2', 'sync:subscribe', { topics: [RUNS], resume_after: { [RUNS]: 449 } }),
      d,
    );
    t = transition(t.state, { type: 'notify', topic: RUNS }, d);
    expect(t.drain).toBe(true);
    t = transition(t.state, { type: 'notify', topic: RUNS }, d);
    expect(t.state.kind === 'joined' && t.state.pending).toEqual([RUNS]);
    t = transition(t.state, { type: 'drain' }, d);
    expect(t.out).toEqual([]);
    expect(t.drain).toBe(false);
  });

  it('heartbeat: the client push is answered and pushed back; a tick after 60 s of silence stops the channel', () => {
    const { out } = run([
      joined(),
      client('2', 'sync:subscribe', { topics: [RUNS], resume_after: { [RUNS]: 450 } }),
      client('3', 'sync:heartbeat', {}),
    ]);
    expect(out.slice(-2).map((f) => [f.event, f.payload])).toEqual([
      ['sync:heartbeat', { watermarks: [{ topic: RUNS, watermark: 450 }] }],
      [
        'phx_reply',
        {
          status: 'ok',
          response: {
            subscription_id: 'sub_sync_session:sess_a',
            watermarks: [{ topic: RUNS, watermark: 450 }],
          },
        },
      ],
    ]);
    const s = run([joined()], deps(0)).state;
    const alive = transition(s, { type: 'tick' }, deps(60_000));
    expect(alive.out.map((f) => f.event)).toEqual(['sync:heartbeat']);
    const idle = transition(s, { type: 'tick' }, deps(60_001));
    expect(idle.state.kind).toBe('idle');
    expect(idle.out.map((f) => f.event)).toEqual(['phx_close']);
  });

  it('an unknown event stops the channel with phx_error (the original had no handler); leave closes it', () => {
    const unknown = run([joined(), client('2', 'sync:frobnicate', {})]);
    expect(unknown.state.kind).toBe('idle');
    expect(unknown.out.at(-1)?.event).toBe('phx_error');
    const left = run([joined(), client('2', 'phx_leave', {})]);
    expect(left.out.slice(1).map((f) => f.event)).toEqual(['phx_reply', 'phx_close']);
  });

  it('unsubscribe drops topics and their watermarks', () => {
    const { out } = run([
      joined(),
      client('2', 'sync:subscribe', { topics: [RUNS, EVENTS], resume_after: { [RUNS]: 450 } }),
      client('3', 'sync:unsubscribe', { topics: [RUNS] }),
      client('4', 'sync:unsubscribe', {}),
    ]);
    expect(responseOf(out.at(-2)).response).toEqual({
      subscription_id: 'sub_sync_session:sess_a',
      topics: [EVENTS],
    });
    expect(responseOf(out.at(-1))).toEqual({ status: 'error', response: { code: 'bad_subscription' } });
  });
});
