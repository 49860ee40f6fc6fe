/**
 * Collects what a resuming legacy-lane client receives: the project's legacy client (legacy/client),
 * subscribed from chosen watermarks, then the live tail. The lane's own clients resumed by
 * reconnecting with `resume_after` = what they had applied, and on `stale_cursor` cleared the stale
 * topics' watermarks and subscribed again; this collector does the same across restarts of the lane,
 * and records each update and each stale answer in the order received.
 *
 *   connecting ──joined──► subscribed ──connection ended──► backoff ──► connecting
 *        └──────────── refused for good (token, generation 2, forbidden topic) ──► failed
 */

import { isLegacyLaneError } from '../../legacy/client/errors.js';
import { LegacyLaneClient } from '../../legacy/client/legacy-client.js';
import type { Collector } from '../harness.js';
import type { LegacyEntry, LegacyUpdate } from '../observation.js';

export interface LegacyTarget {
  readonly url: string;
  /** Read again before every connect, so a token file that was refreshed is picked up. */
  readonly token: () => Promise<string>;
}

export interface LegacyLaneHealth {
  readonly up: boolean;
  /** The collector's state, e.g. "subscribed" or "backoff #3 (socket closed)". */
  readonly state: string;
  readonly lastDeliveryAtMs?: number;
}

/** Codes that reconnecting cannot fix. */
const PERMANENT = new Set([
  'unauthorized',
  'generation_2_endpoint',
  'bad_topic',
  'bad_subscription',
  'forbidden_topic',
  'reauth_required',
]);

type State =
  | { readonly t: 'idle' }
  | { readonly t: 'connecting'; readonly attempt: number }
  | { readonly t: 'subscribed'; readonly client: LegacyLaneClient }
  | { readonly t: 'backoff'; readonly attempt: number; readonly why: string }
  | { readonly t: 'failed'; readonly why: string }
  | { readonly t: 'stopped' };

export class LegacyCollector implements Collector<LegacyEntry> {
  readonly entries: LegacyEntry[] = [];
  private state: State = { t: 'idle' };
  /** Per topic, the watermark to resume after: the chosen start, then what was delivered. */
  private readonly resume = new Map<string, number>();
  private loop: Promise<void> = Promise.resolve();
  private laneErrors = 0;
  /** When the lane last delivered an update (any topic, sampled or not); undefined before the first. */
  private lastDeliveryAtMs: number | undefined;

  constructor(
    private readonly target: LegacyTarget,
    readonly topics: readonly string[],
    from: ReadonlyMap<string, bigint> = new Map(),
    /** Updates to record (shadow mode keeps only its sampled streams); all by default. */
    private readonly keep: (u: LegacyUpdate) => boolean = () => true,
  ) {
    for (const [topic, w] of from) this.resume.set(topic, Number(w));
  }

  /** Drops recorded entries that fail `pred` (shadow mode forgets what it has accounted for). */
  retain(pred: (e: LegacyEntry) => boolean): void {
    const kept = this.entries.filter(pred);
    this.entries.length = 0;
    for (const e of kept) this.entries.push(e);
  }

  get failure(): string | undefined {
    return this.state.t === 'failed' ? this.state.why : undefined;
  }

  describe(): string {
    const s = this.state;
    const extra = this.laneErrors ? `, ${this.laneErrors} lane errors` : '';
    if (s.t === 'backoff') return `backoff #${s.attempt} (${s.why})${extra}`;
    if (s.t === 'failed') return `failed: ${s.why}`;
    return `${s.t}${extra}`;
  }

  /**
   * Whether the lane serves now, as its clients would see it: up while subscribed (a quiet lane that
   * answered its subscribe is up), down while connecting, backing off or refused. The cutover
   * controller reads it before it sends clients back to the legacy lane.
   */
  health(): LegacyLaneHealth {
    return {
      up: this.state.t === 'subscribed',
      state: this.describe(),
      ...(this.lastDeliveryAtMs !== undefined ? { lastDeliveryAtMs: this.lastDeliveryAtMs } : {}),
    };
  }

  /** Resolves once the first subscribe answered (replay delivered); rejects if the lane refused. */
  async start(): Promise<void> {
    this.state = { t: 'connecting', attempt: 0 };
    await this.connectOnce(0);
    if (this.current().t === 'failed') return;
    this.loop = this.follow();
  }

  async stop(): Promise<void> {
    const s = this.state;
    this.state = { t: 'stopped' };
    if (s.t === 'subscribed') await s.client.close();
    await this.loop;
  }

  /** The state as it is now (TypeScript keeps a narrowed `this.state` across awaits). */
  private current(): State {
    return this.state;
  }

  /** Rides out the end of each connection: back off, reconnect, resume from what was delivered. */
  private async follow(): Promise<void> {
    let attempt = 0;
    for (;;) {
      const s = this.state;
      if (s.t !== 'subscribed') return;
      let why = (await s.client.done).message;
      for (;;) {
        if (this.state.t !== 'subscribed' && this.state.t !== 'connecting') return; // stopped or failed
        attempt++;
        this.state = { t: 'backoff', attempt, why };
        await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** Math.min(attempt, 6))));
        if (this.state.t !== 'backoff') return;
        this.state = { t: 'connecting', attempt };
        await this.connectOnce(attempt);
        if (this.current().t === 'subscribed') break;
        why = 'reconnect failed';
      }
      attempt = 0;
    }
  }

  private async connectOnce(attempt: number): Promise<void> {
    let client: LegacyLaneClient;
    try {
      client = await LegacyLaneClient.connect({
        url: this.target.url,
        token: await this.target.token(),
        heartbeatMs: 20_000,
        onUpdate: (u) => {
          this.lastDeliveryAtMs = Date.now();
          const update: LegacyUpdate = {
            topic: u.topic,
            watermark: BigInt(u.watermark),
            docKey: u.docKey,
            docVersion: BigInt(u.docVersion),
            payload: u.payload,
            payloadHash: u.payloadHash,
            atMs: Date.now(),
          };
          if (this.keep(update)) this.entries.push({ kind: 'update', update });
          if (u.watermark > (this.resume.get(u.topic) ?? 0)) this.resume.set(u.topic, u.watermark);
        },
        onError: () => {
          this.laneErrors++;
        },
      });
    } catch (e) {
      this.refused(e, attempt);
      return;
    }
    if (this.state.t !== 'connecting') {
      await client.close();
      return;
    }
    try {
      await this.subscribe(client);
    } catch (e) {
      await client.close();
      this.refused(e, attempt);
      return;
    }
    if (this.state.t !== 'connecting') {
      await client.close();
      return;
    }
    this.state = { t: 'subscribed', client };
  }

  /** Subscribes every topic; stale topics are recorded, forgotten and subscribed again from the start. */
  private async subscribe(client: LegacyLaneClient): Promise<void> {
    for (let round = 0; round < 3; round++) {
      const resumeAfter = Object.fromEntries(
        this.topics.filter((t) => this.resume.has(t)).map((t) => [t, this.resume.get(t) as number]),
      );
      try {
        await client.subscribe(this.topics, { resumeAfter });
        return;
      } catch (e) {
        if (!isLegacyLaneError(e) || e.code !== 'stale_cursor') throw e;
        const now = Date.now();
        for (const st of e.staleTopics) {
          this.entries.push({ kind: 'stale', topic: st.topic, reason: st.reason, atMs: now });
          this.resume.delete(st.topic);
        }
        if (e.staleTopics.length === 0) throw e;
      }
    }
    throw new Error('the lane kept answering stale_cursor after the stale topics were reset');
  }

  private refused(e: unknown, attempt: number): void {
    const code = isLegacyLaneError(e) ? e.code : 'unknown';
    const why = e instanceof Error ? e.message : String(e);
    // The first connect must work (a wrong URL or token should end the run, not spin); later ones may
    // fail while the lane restarts.
    if (attempt === 0 || PERMANENT.has(code)) this.state = { t: 'failed', why };
  }
}
