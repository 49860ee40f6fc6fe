/**
 * The legacy lane, followed for as long as the application wants it: a LegacyLaneClient subscribed
 * from the resume hints, and when its socket drops (the lane restarted, the network failed) a new one,
 * after a backoff, resuming from the hints as they are then. The desktop client did the same: reconnect
 * with `resume_after` = what it had applied, and on `stale_cursor` forget the stale topics' watermarks
 * and subscribe again. A refusal reconnecting cannot fix (the token, a generation-2 endpoint, a topic
 * it may not read) ends the following and is reported.
 *
 *   start ──subscribed──► following ──socket ended──► backoff ──timer──► connecting ──► following
 *                            │                           ▲                  │ transient failure
 *                            │                           └──────────────────┘
 *                            └─ close() from any state ──► closed;  permanent refusal ──► failed
 */
import {
  isLegacyLaneError,
  LegacyLaneClient,
  type LegacyLaneError,
  type LegacyUpdate,
} from '../../legacy/client/index.js';

/** Codes that reconnecting cannot fix. */
const PERMANENT = new Set([
  'unauthorized',
  'generation_2_endpoint',
  'bad_topic',
  'bad_subscription',
  'forbidden_topic',
  'reauth_required',
]);

export interface LegacyFollowerOptions {
  readonly url: string;
  /** Read before every connect, so a refreshed token is picked up. */
  readonly token: () => Promise<string>;
  readonly topics: readonly string[];
  /** Per topic, the watermark to resume after, read at every (re)connect. */
  readonly resumeAfter: () => Readonly<Record<string, number>>;
  readonly onUpdate: (u: LegacyUpdate) => void;
  /** The lane no longer retains these topics' resume watermarks: they are replayed from the start. */
  readonly onStale: (topics: readonly string[]) => void;
  /** A dropped socket (transient, retried) or a permanent refusal (following ends). */
  readonly onError?: (e: unknown, permanent: boolean) => void;
  /** Reconnect delay: doubling from `initialMs` up to `maxMs`, with jitter. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

type State =
  | { readonly t: 'connecting'; readonly attempt: number }
  | { readonly t: 'following'; readonly client: LegacyLaneClient }
  | { readonly t: 'backoff'; readonly attempt: number; readonly timer: NodeJS.Timeout }
  | { readonly t: 'failed'; readonly error: unknown }
  | { readonly t: 'closed' };

const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 5_000 };

export class LegacyFollower {
  private state: State = { t: 'connecting', attempt: 0 };
  private reconnects = 0;

  private constructor(private readonly o: LegacyFollowerOptions) {}

  /** Connects and subscribes once; a first connection that fails rejects (nothing to ride out yet). */
  static async start(o: LegacyFollowerOptions): Promise<LegacyFollower> {
    const f = new LegacyFollower(o);
    const client = await f.connect();
    f.follow(client);
    return f;
  }

  /** Connections made after the first (each a reconnect after a dropped socket). */
  get reconnected(): number {
    return this.reconnects;
  }

  describe(): string {
    return this.state.t;
  }

  async close(): Promise<void> {
    const s = this.state;
    this.state = { t: 'closed' };
    if (s.t === 'following') await s.client.close();
    if (s.t === 'backoff') clearTimeout(s.timer);
  }

  private async connect(previous?: LegacyLaneClient): Promise<LegacyLaneClient> {
    const client = await LegacyLaneClient.connect({
      url: this.o.url,
      token: await this.o.token(),
      heartbeatMs: 20_000,
      onUpdate: this.o.onUpdate,
      // Carries the (topic, watermark) memory across connections: a reused watermark is reported.
      ...(previous ? { dedupe: previous.dedupe } : {}),
    });
    try {
      for (let round = 0; ; round++) {
        try {
          await client.subscribe(this.o.topics, { resumeAfter: this.o.resumeAfter() });
          return client;
        } catch (e) {
          if (!isLegacyLaneError(e) || e.code !== 'stale_cursor' || e.staleTopics.length === 0 || round > 2)
            throw e;
          this.o.onStale(e.staleTopics.map((st) => st.topic));
        }
      }
    } catch (e) {
      await client.close();
      throw e;
    }
  }

  /** Waits for the connection to end; unless closed, backs off and reconnects. */
  private follow(client: LegacyLaneClient): void {
    this.state = { t: 'following', client };
    void client.done.then((why: LegacyLaneError) => {
      if (this.state.t !== 'following' || this.state.client !== client) return; // closed by us
      this.o.onError?.(why, false);
      this.retry(1, client);
    });
  }

  private retry(attempt: number, previous: LegacyLaneClient): void {
    const b = this.o.backoff ?? DEFAULT_BACKOFF;
    const ceiling = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(attempt - 1, 20));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    const timer = setTimeout(() => void this.reconnect(attempt, previous), delay);
    timer.unref();
    this.state = { t: 'backoff', attempt, timer };
  }

  private async reconnect(attempt: number, previous: LegacyLaneClient): Promise<void> {
    if (this.state.t !== 'backoff') return;
    this.state = { t: 'connecting', attempt };
    let client: LegacyLaneClient;
    try {
      client = await this.connect(previous);
    } catch (e) {
      if (this.state.t !== 'connecting') return; // closed meanwhile
      const permanent = isLegacyLaneError(e) && PERMANENT.has(e.code);
      this.o.onError?.(e, permanent);
      if (permanent) this.state = { t: 'failed', error: e };
      else this.retry(attempt + 1, previous);
      return;
    }
    if (this.state.t !== 'connecting') {
      await client.close(); // closed while connecting
      return;
    }
    this.reconnects++;
    this.follow(client);
  }
}
