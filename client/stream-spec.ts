/**
 * The stream machine's specification (stream-machine.ts): checked cell by cell against
 * `transitionStream` by stream-machine.test.ts, rendered into STATE-MACHINE.md.
 */
import type { MachineSpec } from './machine-spec.js';
import type { StreamKind } from './stream-machine.js';

export type StreamCase =
  | 'connected'
  | 'stream_row (fresh)'
  | 'stream_row (fresh, applied first)'
  | 'stream_row (stale)'
  | 'applied (row unread)'
  | 'applied (fresh)'
  | 'applied (stale)'
  | 'applied (unwanted)'
  | 'drained (window)'
  | 'drained (open tail)'
  | 'gap_timeout'
  | 'stream_updated (fresh)'
  | 'stream_updated (stale)'
  | 'rebootstrapped'
  | 'connection_lost';

export const STREAM_SPEC: MachineSpec<StreamKind, StreamCase> = {
  title: 'Stream',
  intro:
    'One per stream, running while the connection is `open` (`client/stream-machine.ts`). A stream is ' +
    '*stale* when its row shows a new epoch, a low watermark past the client’s watermark + 1 (also on a ' +
    'first run when history was already truncated), or a head below the client’s watermark in the same ' +
    'epoch (the server lost history: restarted from an older data dir, a truncated log). Stale means an ' +
    'explicit rebootstrap: the jittered delay, then the application’s `onRebootstrap`, then a replay from ' +
    'the low watermark.',
  states: {
    idle: 'no connection yet',
    subscribing:
      'the first event subscription (`seq > watermark`, maybe a window) is asked for; after connecting it goes out with the rows’ subscription, before the row is read, and nothing is taken from it until the row shows the client can resume',
    replaying: 'a replay window, or the first stretch of the tail, is applied and being delivered',
    live: 'caught up; new events arrive through the live event table as they are appended, no event subscription held (a gap re-fetch is the one exception while it lasts)',
    rebootstrapping: 'stale: waiting for the jittered delay and the application’s reset',
  },
  events: {
    connected:
      'the connection is identified and asked for the stream rows: subscribe from the watermark at once (a first window, since the backlog is not known yet; the open tail without windows)',
    'stream_row (fresh)':
      'the connection read the stream’s row, the client can resume from its watermark, and the first subscription is not applied yet',
    'stream_row (fresh, applied first)':
      'the same, and the first subscription was already applied: its cached rows are delivered',
    'stream_row (stale)':
      'the connection read the stream’s row and it is stale (the first subscription is dropped)',
    'applied (row unread)':
      'the first subscription is applied before the stream’s row is read: it waits for the row',
    'applied (fresh)':
      'the subscription the stream waits for (a replay, its next window, or a live gap re-fetch) is applied: its cached rows are delivered (a window stays `replaying` and subscribes the window after it at once, so the host evaluates that one while this one is delivered); a window subscribed ahead that is applied before the current one is drained waits for it',
    'applied (stale)': 'that subscription is applied, but the row went stale meanwhile',
    'applied (unwanted)': 'a subscription the stream no longer waits for is applied (it is dropped)',
    'drained (window)':
      'the application applied a window: the window subscribed ahead takes over once applied (the drained one is dropped); if the window ended short of its upper bound, the one ahead is dropped and the next is subscribed from the watermark',
    'drained (open tail)':
      'the application applied the snapshot of the open tail (or of a gap re-fetch): that subscription and its cached rows are dropped; the live event table carries on',
    gap_timeout:
      'events held back behind a gap stayed missing for `gapRefetchMs`: subscribe from the watermark once more',
    'stream_updated (fresh)': 'the row changed and the client can still resume',
    'stream_updated (stale)': 'the row changed and it is stale',
    rebootstrapped: 'the application reset the stream; the watermark is the low watermark − 1',
    connection_lost: 'the socket closed (every subscription with it)',
  },
  table: {
    connected: r({ idle: 'subscribing' }),
    'stream_row (fresh)': r({ subscribing: 'subscribing' }),
    'stream_row (fresh, applied first)': r({ subscribing: 'replaying' }),
    'stream_row (stale)': r({ subscribing: 'rebootstrapping' }),
    'applied (row unread)': r({ subscribing: 'subscribing' }),
    'applied (fresh)': r({ subscribing: 'replaying', replaying: 'replaying', live: 'live' }),
    'applied (stale)': r({
      subscribing: 'rebootstrapping',
      replaying: 'rebootstrapping',
      live: 'rebootstrapping',
    }),
    'applied (unwanted)': r({}),
    'drained (window)': r({ replaying: 'replaying' }),
    'drained (open tail)': r({ replaying: 'live', live: 'live' }),
    gap_timeout: r({ replaying: 'replaying', live: 'live' }),
    'stream_updated (fresh)': r({}),
    'stream_updated (stale)': r({ replaying: 'rebootstrapping', live: 'rebootstrapping' }),
    rebootstrapped: r({ rebootstrapping: 'subscribing' }),
    connection_lost: r({
      subscribing: 'idle',
      replaying: 'idle',
      live: 'idle',
      rebootstrapping: 'idle',
    }),
  },
};

/** A row: the listed cells, `·` everywhere else. */
function r(cells: Partial<Record<StreamKind, StreamKind>>): Record<StreamKind, StreamKind | '·'> {
  return {
    idle: cells.idle ?? '·',
    subscribing: cells.subscribing ?? '·',
    replaying: cells.replaying ?? '·',
    live: cells.live ?? '·',
    rebootstrapping: cells.rebootstrapping ?? '·',
  };
}
