import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { specCells } from '../shared/machine-spec.js';
import {
  IDLE,
  type StreamContext,
  type StreamEvent,
  type StreamKind,
  type StreamState,
  transitionStream,
} from './stream-machine.js';
import { STREAM_SPEC, type StreamCase } from './stream-spec.js';
import type { StreamHead } from './subscription-plan.js';

/** The client applied up to seq 20 in epoch 1; the server agrees unless a case says otherwise. */
const FRESH: StreamHead = { epoch: 1n, lowWatermark: 1n, headSeq: 25n };
const STALE: StreamHead = { epoch: 2n, lowWatermark: 1n, headSeq: 3n };

function context(
  head: StreamHead | undefined = FRESH,
  overrides: Partial<StreamContext> = {},
): StreamContext {
  let sub = 100;
  return {
    position: { epoch: 1n, watermark: 20n },
    head,
    replayWindow: undefined,
    newSub: () => ++sub,
    ...overrides,
  };
}

const SAMPLE: Record<StreamKind, StreamState> = {
  idle: IDLE,
  subscribing: { kind: 'subscribing', sub: 5, plan: { from: 20n }, rowRead: true, applied: false },
  replaying: {
    kind: 'replaying',
    sub: 5,
    plan: { from: 10n, upper: 20n },
    next: { sub: 6, plan: { from: 20n } },
  },
  live: { kind: 'live', refetch: { sub: 6, plan: { from: 20n } } },
  rebootstrapping: { kind: 'rebootstrapping', reason: { kind: 'epoch_changed', fromEpoch: 1n, toEpoch: 2n } },
};

/** The sub a state waits for: the first subscription, the replacement, or the live re-fetch. */
const awaited = (s: StreamState) =>
  s.kind === 'subscribing'
    ? s.sub
    : s.kind === 'replaying'
      ? (s.next?.sub ?? -1)
      : s.kind === 'live'
        ? (s.refetch?.sub ?? -1)
        : -1;
/** The sub whose rows are being delivered: the replay's, or the live re-fetch's. */
const active = (s: StreamState) => ('sub' in s ? s.sub : s.kind === 'live' ? (s.refetch?.sub ?? -1) : -1);
/** Without a pending replacement or re-fetch (drained on a window and gap_timeout wait for it otherwise). */
const settled = (s: StreamState): StreamState =>
  s.kind === 'replaying' ? { ...s, next: undefined } : s.kind === 'live' ? { kind: 'live' } : s;

interface Sample {
  readonly state: StreamState;
  readonly event: StreamEvent;
  readonly ctx: StreamContext;
}

/** The first subscription as connecting leaves it: sent with the rows', the row not read yet. */
const rowUnread = (s: StreamState, applied = false): StreamState =>
  s.kind === 'subscribing' ? { ...s, rowRead: false, applied } : s;

const CASE: Record<StreamCase, (s: StreamState) => Sample> = {
  connected: (s) => ({ state: s, event: { type: 'connected' }, ctx: context(undefined) }),
  'stream_row (fresh)': (s) => ({ state: rowUnread(s), event: { type: 'stream_row' }, ctx: context() }),
  'stream_row (fresh, applied first)': (s) => ({
    state: rowUnread(s, true),
    event: { type: 'stream_row' },
    ctx: context(),
  }),
  'stream_row (stale)': (s) => ({ state: rowUnread(s), event: { type: 'stream_row' }, ctx: context(STALE) }),
  // Only the first subscription can be applied before its stream's row is read.
  'applied (row unread)': (s) => ({
    state: rowUnread(s),
    event: { type: 'applied', sub: s.kind === 'subscribing' ? s.sub : 99 },
    ctx: context(undefined),
  }),
  'applied (fresh)': (s) => ({ state: s, event: { type: 'applied', sub: awaited(s) }, ctx: context() }),
  'applied (stale)': (s) => ({ state: s, event: { type: 'applied', sub: awaited(s) }, ctx: context(STALE) }),
  'applied (unwanted)': (s) => ({ state: s, event: { type: 'applied', sub: 99 }, ctx: context() }),
  'drained (window)': (s) => ({
    state: settled(s),
    event: { type: 'drained', sub: active(s) },
    ctx: context(),
  }),
  'drained (open tail)': (s) => ({
    state: s.kind === 'replaying' ? { kind: 'replaying', sub: 5, plan: { from: 10n } } : s,
    event: { type: 'drained', sub: active(s) },
    ctx: context(),
  }),
  gap_timeout: (s) => ({ state: settled(s), event: { type: 'gap_timeout' }, ctx: context() }),
  'stream_updated (fresh)': (s) => ({ state: s, event: { type: 'stream_updated' }, ctx: context() }),
  'stream_updated (stale)': (s) => ({ state: s, event: { type: 'stream_updated' }, ctx: context(STALE) }),
  rebootstrapped: (s) => ({ state: s, event: { type: 'rebootstrapped' }, ctx: context() }),
  connection_lost: (s) => ({ state: s, event: { type: 'connection_lost' }, ctx: context() }),
};

describe('stream machine', () => {
  const cells = specCells(STREAM_SPEC);

  it.each(cells)('%s in %s → %s', (c, k, expected) => {
    const { state: before, event, ctx } = CASE[c](SAMPLE[k]);
    const { state, effects } = transitionStream(before, event, ctx);
    if (expected === '·') {
      expect(state).toBe(before);
      expect(effects).toEqual([]);
    } else {
      expect(state.kind).toBe(expected);
    }
  });

  it('a stale row means an explicit rebootstrap, with the reason, and the active subscription dropped', () => {
    const { state, effects } = transitionStream(SAMPLE.replaying, { type: 'stream_updated' }, context(STALE));
    const reason = { kind: 'epoch_changed', fromEpoch: 1n, toEpoch: 2n };
    expect(state).toEqual({ kind: 'rebootstrapping', reason });
    expect(effects).toEqual([
      { type: 'unsubscribe', sub: 5 },
      { type: 'rebootstrap', reason },
    ]);
  });

  it('the server going backwards in the same epoch is stale (server_behind), not a resume past its head', () => {
    const behind = { epoch: 1n, lowWatermark: 1n, headSeq: 12n };
    const connected = transitionStream(IDLE, { type: 'connected' }, context(undefined)).state;
    const { state, effects } = transitionStream(connected, { type: 'stream_row' }, context(behind));
    expect(state).toEqual({
      kind: 'rebootstrapping',
      reason: { kind: 'server_behind', watermark: 20n, headSeq: 12n },
    });
    // The subscription sent before the row was read is not wanted.
    expect(effects[0]).toEqual({ type: 'unsubscribe', sub: 101 });
    // A server with no row at all for a stream the client applied seqs of lost it entirely.
    expect(
      transitionStream(connected, { type: 'stream_row' }, context(FRESH, { head: undefined })).state,
    ).toMatchObject({
      reason: { kind: 'server_behind', watermark: 20n, headSeq: 0n },
    });
  });

  it('replays a long backlog window by window, each window subscribed while the one before is delivered, then the open tail, then goes live', () => {
    const ctx = (watermark: bigint) =>
      context(
        { epoch: 1n, lowWatermark: 1n, headSeq: 100n },
        { position: { epoch: 1n, watermark }, replayWindow: 40n },
      );
    let sub = 100;
    const at = (watermark: bigint) => ({ ...ctx(watermark), newSub: () => ++sub });
    // Connecting asks for the first window before the row (and so the backlog) is known.
    let t = transitionStream(IDLE, { type: 'connected' }, at(0n));
    expect(t.effects).toEqual([{ type: 'subscribe', sub: 101, plan: { from: 0n, upper: 40n } }]);
    t = transitionStream(t.state, { type: 'stream_row' }, at(0n));
    expect(t.effects).toEqual([]);
    // Applied: its rows are delivered and the next window is asked for at once.
    t = transitionStream(t.state, { type: 'applied', sub: 101 }, at(0n));
    expect(t.effects).toEqual([
      { type: 'deliver_snapshot', sub: 101, plan: { from: 0n, upper: 40n } },
      { type: 'subscribe', sub: 102, plan: { from: 40n, upper: 80n } },
    ]);
    // The window ahead arrives before the first is drained: it waits (its rows were offered as they came).
    t = transitionStream(t.state, { type: 'applied', sub: 102 }, at(40n));
    expect(t.effects).toEqual([]);
    expect(t.state).toMatchObject({ kind: 'replaying', sub: 101, ahead: { sub: 102, applied: true } });
    // Drained: the window ahead takes over, the first is dropped, and the open tail (20 left) is asked for.
    t = transitionStream(t.state, { type: 'drained', sub: 101 }, at(40n));
    expect(t.effects).toEqual([
      { type: 'unsubscribe', sub: 101 },
      { type: 'deliver_snapshot', sub: 102, plan: { from: 40n, upper: 80n } },
      { type: 'subscribe', sub: 103, plan: { from: 80n } },
    ]);
    // This time the window is drained first: it waits for the one ahead to be applied.
    t = transitionStream(t.state, { type: 'drained', sub: 102 }, at(80n));
    expect(t.effects).toEqual([]);
    expect(t.state).toMatchObject({ kind: 'replaying', sub: 102, drained: true });
    // A second drained report changes nothing.
    expect(transitionStream(t.state, { type: 'drained', sub: 102 }, at(80n)).effects).toEqual([]);
    t = transitionStream(t.state, { type: 'applied', sub: 103 }, at(80n));
    expect(t.effects).toEqual([
      { type: 'unsubscribe', sub: 102 },
      { type: 'deliver_snapshot', sub: 103, plan: { from: 80n } },
    ]);
    expect(t.state).toEqual({ kind: 'replaying', sub: 103, plan: { from: 80n } });
    t = transitionStream(t.state, { type: 'drained', sub: 103 }, at(100n));
    // Live: the replay subscription (and the rows it cached) is dropped; the event table carries on.
    expect(t.state).toEqual({ kind: 'live' });
    expect(t.effects).toEqual([{ type: 'unsubscribe', sub: 103 }]);
  });

  it('a window that holds the whole backlog subscribes nothing ahead', () => {
    const ctx = context({ epoch: 1n, lowWatermark: 1n, headSeq: 30n }, { replayWindow: 40n });
    let t = transitionStream(IDLE, { type: 'connected' }, ctx);
    t = transitionStream(t.state, { type: 'stream_row' }, ctx);
    t = transitionStream(t.state, { type: 'applied', sub: 101 }, ctx);
    expect(t.effects).toEqual([{ type: 'deliver_snapshot', sub: 101, plan: { from: 20n, upper: 60n } }]);
    expect(t.state).toEqual({ kind: 'replaying', sub: 101, plan: { from: 20n, upper: 60n } });
  });

  it('a window that ends short of its upper bound drops the window subscribed ahead and asks again from the watermark', () => {
    const head = { epoch: 1n, lowWatermark: 1n, headSeq: 200n };
    const s: StreamState = {
      kind: 'replaying',
      sub: 5,
      plan: { from: 20n, upper: 60n },
      ahead: { sub: 6, plan: { from: 60n, upper: 100n }, applied: true },
    };
    const t = transitionStream(
      s,
      { type: 'drained', sub: 5 },
      context(head, { position: { epoch: 1n, watermark: 45n }, replayWindow: 40n }),
    );
    expect(t.effects).toEqual([
      { type: 'unsubscribe', sub: 6 },
      { type: 'subscribe', sub: 101, plan: { from: 45n, upper: 85n } },
    ]);
    expect(t.state).toMatchObject({
      kind: 'replaying',
      sub: 5,
      next: { sub: 101, plan: { from: 45n, upper: 85n } },
    });
  });

  it('a gap re-fetch or a stale row while a window is subscribed ahead drops that window too', () => {
    const s: StreamState = {
      kind: 'replaying',
      sub: 5,
      plan: { from: 20n, upper: 60n },
      ahead: { sub: 6, plan: { from: 60n, upper: 100n }, applied: false },
    };
    const gap = transitionStream(s, { type: 'gap_timeout' }, context(FRESH, { replayWindow: 40n }));
    expect(gap.effects).toEqual([
      { type: 'unsubscribe', sub: 6 },
      { type: 'subscribe', sub: 101, plan: { from: 20n } },
    ]);
    expect(gap.state).toMatchObject({ kind: 'replaying', sub: 5, next: { sub: 101 } });
    expect(gap.state).not.toHaveProperty('ahead', expect.anything());
    const stale = transitionStream(s, { type: 'stream_updated' }, context(STALE));
    expect(stale.state.kind).toBe('rebootstrapping');
    expect(stale.effects.slice(0, 2)).toEqual([
      { type: 'unsubscribe', sub: 5 },
      { type: 'unsubscribe', sub: 6 },
    ]);
  });

  it('a window that moved nothing falls back to the open tail instead of asking again', () => {
    const s: StreamState = { kind: 'replaying', sub: 5, plan: { from: 20n, upper: 60n } };
    const t = transitionStream(
      s,
      { type: 'drained', sub: 5 },
      context({ epoch: 1n, lowWatermark: 1n, headSeq: 100n }, { replayWindow: 40n }),
    );
    expect(t.effects).toEqual([{ type: 'subscribe', sub: 101, plan: { from: 20n } }]);
  });

  it('live holds no event subscription; a gap re-fetches once from the watermark, then drops that subscription', () => {
    let t = transitionStream({ kind: 'live' }, { type: 'gap_timeout' }, context());
    expect(t.effects).toEqual([{ type: 'subscribe', sub: 101, plan: { from: 20n } }]);
    // Another timeout while the re-fetch is in flight does not ask again.
    expect(transitionStream(t.state, { type: 'gap_timeout' }, context()).effects).toEqual([]);
    t = transitionStream(t.state, { type: 'applied', sub: 101 }, context());
    expect(t.state.kind).toBe('live');
    expect(t.effects).toEqual([{ type: 'deliver_snapshot', sub: 101, plan: { from: 20n } }]);
    t = transitionStream(t.state, { type: 'drained', sub: 101 }, context());
    expect(t.state).toEqual({ kind: 'live' });
    expect(t.effects).toEqual([{ type: 'unsubscribe', sub: 101 }]);
  });

  it('under any sequence of events the machine only ever waits for one replacement and never delivers from an unwanted subscription', () => {
    const events: StreamEvent[] = [
      { type: 'connected' },
      { type: 'stream_row' },
      { type: 'applied', sub: 101 },
      { type: 'applied', sub: 102 },
      { type: 'applied', sub: 103 },
      { type: 'applied', sub: 104 },
      { type: 'drained', sub: 101 },
      { type: 'drained', sub: 102 },
      { type: 'drained', sub: 103 },
      { type: 'gap_timeout' },
      { type: 'stream_updated' },
      { type: 'rebootstrapped' },
      { type: 'connection_lost' },
    ];
    // A long backlog (windows of 40, one subscribed ahead) or a short one, fresh or stale.
    const LONG: StreamHead = { epoch: 1n, lowWatermark: 1n, headSeq: 200n };
    const heads = [FRESH, LONG, STALE];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...events), fc.constantFrom(...heads)), { maxLength: 40 }),
        (seq) => {
          let sub = 100;
          let s: StreamState = IDLE;
          const requested = new Set<number>();
          const applied = new Set<number>();
          const dropped = new Set<number>();
          for (const [e, head] of seq) {
            const t = transitionStream(s, e, context(head, { newSub: () => ++sub, replayWindow: 40n }));
            if (e.type === 'applied' && requested.has(e.sub)) applied.add(e.sub);
            for (const fx of t.effects) {
              if (fx.type === 'subscribe') requested.add(fx.sub);
              if (fx.type === 'unsubscribe') dropped.add(fx.sub);
              // Only a subscription the machine asked for, applied and not dropped, is delivered from.
              if (fx.type === 'deliver_snapshot') {
                expect(applied.has(fx.sub)).toBe(true);
                expect(dropped.has(fx.sub)).toBe(false);
              }
            }
            s = t.state;
            if ('sub' in s) expect(requested.has(s.sub)).toBe(true);
            if (s.kind === 'replaying') {
              // At most one window ahead, and never beside a replacement.
              if (s.ahead) expect(requested.has(s.ahead.sub) && s.next === undefined).toBe(true);
              if (s.drained) expect(s.ahead).toBeDefined();
            }
            if (s.kind === 'live' && s.refetch) expect(requested.has(s.refetch.sub)).toBe(true);
          }
        },
      ),
    );
  });
});
