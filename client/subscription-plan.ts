/**
 * Pure planning for one stream's event subscriptions: whether the stream's history moved under the
 * client (it must rebootstrap), and which seq range the next subscription covers — a bounded replay
 * window or the open tail. No SDK, no I/O: the stream machine and its tests call these directly.
 */

/** What the server says about a stream (its `sync_stream` row), in the client's own names. */
export interface StreamHead {
  readonly epoch: bigint;
  /** Oldest retained seq; `headSeq + 1` when nothing is retained. */
  readonly lowWatermark: bigint;
  readonly headSeq: bigint;
}

/** Where the client is on a stream: the epoch its cursor belongs to (unknown on a first run) and the last applied seq. */
export interface StreamPosition {
  readonly epoch: bigint | undefined;
  readonly watermark: bigint;
}

export type RebootstrapReason =
  | { readonly kind: 'epoch_changed'; readonly fromEpoch: bigint; readonly toEpoch: bigint }
  | { readonly kind: 'below_low_watermark'; readonly watermark: bigint; readonly lowWatermark: bigint }
  /**
   * The server's head is below what the client already applied in the same epoch: the server lost
   * history it had confirmed (restarted from an older data dir, a truncated log). Resuming at
   * `seq > watermark` would silently skip the seqs the server hands out again.
   */
  | { readonly kind: 'server_behind'; readonly watermark: bigint; readonly headSeq: bigint };

/** How a stream the server has no row for looks: empty, in the epoch the client knows (or the first). */
export function emptyHead(epoch: bigint | undefined): StreamHead {
  return { epoch: epoch ?? 1n, lowWatermark: 1n, headSeq: 0n };
}

/**
 * Why `position` can no longer resume on `head`, or undefined when it can. No row (`undefined`) is an
 * empty stream: fine for a first run, but a client that applied seqs the server no longer has is behind it.
 */
export function staleness(
  position: StreamPosition,
  row: StreamHead | undefined,
): RebootstrapReason | undefined {
  const head = row ?? emptyHead(position.epoch);
  const { epoch, watermark } = position;
  if (epoch !== undefined && epoch !== head.epoch)
    return { kind: 'epoch_changed', fromEpoch: epoch, toEpoch: head.epoch };
  // Confirmed reads mean every seq the client applied was durable on the server: a head below it
  // is history the server no longer has, never a head that has not caught up yet.
  if (watermark > head.headSeq) return { kind: 'server_behind', watermark, headSeq: head.headSeq };
  // A first run (no cursor, watermark 0) on a stream whose history was already truncated is stale
  // too: starting at the low watermark without a word would hide seqs 1..low-1 from the app.
  if (watermark + 1n < head.lowWatermark)
    return { kind: 'below_low_watermark', watermark, lowWatermark: head.lowWatermark };
  return undefined;
}

/** One event subscription: `seq > from`, and `seq <= upper` when it is a bounded replay window. */
export interface SubscriptionPlan {
  readonly from: bigint;
  readonly upper?: bigint;
}

/**
 * The next subscription from `from`: a window of `window` seqs when the backlog to `headSeq` is
 * longer than that (and windows are allowed), else the open tail.
 */
export function planSubscription(
  from: bigint,
  headSeq: bigint,
  window: bigint | undefined,
  allowWindow = true,
): SubscriptionPlan {
  if (allowWindow && window !== undefined && headSeq - from > window) return { from, upper: from + window };
  return { from };
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The SQL of a plan: the module's table and column names, as the server knows them. */
export function eventQuery(streamId: string, plan: SubscriptionPlan): string {
  const bound = plan.upper === undefined ? '' : ` AND seq <= ${plan.upper}`;
  return `SELECT * FROM sync_event WHERE stream_id = ${quote(streamId)} AND seq > ${plan.from}${bound}`;
}

/** Live delivery of the stream's new events: the module's event table, never cached by the SDK. */
export function liveQuery(streamId: string): string {
  return `SELECT * FROM sync_event_live WHERE stream_id = ${quote(streamId)}`;
}

/** The client's own scoped-token sessions: how it learns that its session was revoked. */
export const TOKEN_SESSION_QUERY = 'SELECT * FROM token_session';

export function streamQuery(streamId: string): string {
  return `SELECT * FROM sync_stream WHERE stream_id = ${quote(streamId)}`;
}
