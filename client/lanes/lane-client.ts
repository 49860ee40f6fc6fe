/**
 * A desktop client that follows the cutover: it asks which lane to use (the service's RouteClient,
 * a stable answer per client id), consumes the legacy lane (topics, `LegacyLaneClient`) or SpacetimeDB
 * (streams, `SyncClient`), and switches when the answer changes — delivering every event exactly once
 * across the switch: the new lane resumes from the last position it knew (or from the start of retained
 * history) and what the application already has is skipped by authority identity (./delivered.ts).
 *
 *   idle ──open──► following(lane) ──route answer differs──► switching(from, to) ──► following(to)
 *                        └──────────────── close ──────────────────────┴──────────► closed
 */
import { isLegacyLaneError, LegacyLaneClient, type LegacyUpdate } from '../../legacy/client/index.js';
import { GEN1_RULES, LaneMapping, MappingError } from '../../parity/mapping.js';
import { MemoryCursorStore } from '../cursor-store.js';
import { SyncClient, type SyncEvent } from '../sync-client.js';
import { DeliveredMarks } from './delivered.js';

export type Lane = 'legacy' | 'spacetime';

export interface LaneEvent {
  readonly lane: Lane;
  readonly streamId: string;
  readonly authorityTopic: string;
  readonly authoritySeq: bigint;
  /** The payload as JSON (both lanes carry JSON documents). */
  readonly payload: unknown;
}

export interface LaneClientOptions {
  /** Which lane this client uses now (e.g. AdminService.RouteClient with the device id). */
  readonly route: () => Promise<Lane>;
  /** How often to ask again. */
  readonly routeIntervalMs: number;
  readonly spacetime: {
    readonly uri: string;
    readonly database: string;
    readonly token?: string;
    readonly clientId: string;
  };
  readonly legacy: { readonly url: string; readonly token: () => Promise<string> };
  /** The streams followed; their legacy topics are derived through the mapping. */
  readonly streams: readonly string[];
  readonly topics: readonly string[];
  readonly mapping?: LaneMapping;
  readonly onEvent: (e: LaneEvent) => void;
  readonly onSwitch?: (from: Lane, to: Lane) => void;
  readonly onError?: (e: unknown) => void;
}

type Consumer =
  | { readonly lane: 'legacy'; readonly client: LegacyLaneClient }
  | { readonly lane: 'spacetime'; readonly client: SyncClient };

type Life =
  | { readonly t: 'idle' }
  | { readonly t: 'following'; readonly consumer: Consumer }
  | { readonly t: 'switching'; readonly from: Lane | undefined; readonly to: Lane }
  | { readonly t: 'closed' };

const decoder = new TextDecoder();

export class LaneClient {
  private life: Life = { t: 'idle' };
  private readonly marks = new DeliveredMarks();
  private readonly mapping: LaneMapping;
  /** Resume hints per lane: legacy watermark per topic, our seq per stream. */
  private readonly legacyAfter = new Map<string, number>();
  private readonly spacetimeAfter = new Map<string, bigint>();
  private readonly followed: ReadonlySet<string>;
  private timer: NodeJS.Timeout | undefined;
  private routing = false;

  private constructor(private readonly o: LaneClientOptions) {
    this.mapping = o.mapping ?? new LaneMapping(GEN1_RULES);
    this.followed = new Set(o.streams);
  }

  static async open(o: LaneClientOptions): Promise<LaneClient> {
    const c = new LaneClient(o);
    await c.switchTo(await o.route());
    c.timer = setInterval(() => void c.reroute(), o.routeIntervalMs);
    c.timer.unref();
    return c;
  }

  get lane(): Lane | undefined {
    return this.life.t === 'following' ? this.life.consumer.lane : undefined;
  }

  /** Asks for the lane again and switches when it changed. */
  async reroute(): Promise<void> {
    if (this.routing || this.life.t !== 'following') return;
    this.routing = true;
    try {
      const want = await this.o.route();
      if (this.life.t === 'following' && this.life.consumer.lane !== want) await this.switchTo(want);
    } catch (e) {
      this.o.onError?.(e);
    } finally {
      this.routing = false;
    }
  }

  private async switchTo(to: Lane): Promise<void> {
    const before = this.life;
    if (before.t === 'closed' || before.t === 'switching') return;
    const from = before.t === 'following' ? before.consumer.lane : undefined;
    this.life = { t: 'switching', from, to };
    // Stop the old lane first: nothing arrives from it while the new one replays.
    if (before.t === 'following') await this.stopConsumer(before.consumer);
    const consumer = to === 'legacy' ? await this.openLegacy() : await this.openSpacetime();
    if (this.life.t !== 'switching') {
      await this.stopConsumer(consumer); // closed meanwhile
      return;
    }
    this.life = { t: 'following', consumer };
    if (from !== undefined) this.o.onSwitch?.(from, to);
  }

  private deliver(e: LaneEvent): void {
    if (!this.followed.has(e.streamId)) return;
    if (this.marks.admit(e.streamId, e.authoritySeq)) this.o.onEvent(e);
  }

  private async openSpacetime(): Promise<Consumer> {
    const client = await SyncClient.open(this.o.streams, {
      ...this.o.spacetime,
      store: new MemoryCursorStore(),
      startAfter: this.spacetimeAfter,
      onEvent: (streamId: string, e: SyncEvent) => {
        this.spacetimeAfter.set(streamId, e.seq);
        this.deliver({
          lane: 'spacetime',
          streamId,
          authorityTopic: e.sourceTopic,
          authoritySeq: e.sourceSeq,
          payload: JSON.parse(decoder.decode(e.payload)),
        });
      },
    });
    return { lane: 'spacetime', client };
  }

  private async openLegacy(): Promise<Consumer> {
    const client = await LegacyLaneClient.connect({
      url: this.o.legacy.url,
      token: await this.o.legacy.token(),
      onUpdate: (u: LegacyUpdate) => {
        if (u.watermark > (this.legacyAfter.get(u.topic) ?? 0)) this.legacyAfter.set(u.topic, u.watermark);
        let streamId: string;
        try {
          streamId = this.mapping.streamOf(
            this.mapping.fromLegacy({ topic: u.topic, docKey: u.docKey, docVersion: BigInt(u.docVersion) }),
          );
        } catch (e) {
          if (e instanceof MappingError) return; // another principal's document on a shared topic
          throw e;
        }
        this.deliver({
          lane: 'legacy',
          streamId,
          authorityTopic: u.topic,
          authoritySeq: BigInt(u.docVersion),
          payload: u.payload,
        });
      },
    });
    try {
      await client.subscribe(this.o.topics, { resumeAfter: Object.fromEntries(this.legacyAfter) });
    } catch (e) {
      // A watermark the lane no longer retains: replay those topics from the start; the marks skip
      // what was delivered, so this costs replay, not duplicates.
      if (!isLegacyLaneError(e) || e.code !== 'stale_cursor' || e.staleTopics.length === 0) throw e;
      for (const st of e.staleTopics) this.legacyAfter.delete(st.topic);
      await client.subscribe(this.o.topics, { resumeAfter: Object.fromEntries(this.legacyAfter) });
    }
    return { lane: 'legacy', client };
  }

  private async stopConsumer(c: Consumer): Promise<void> {
    await c.client.close();
  }

  async close(): Promise<void> {
    const life = this.life;
    this.life = { t: 'closed' };
    clearInterval(this.timer);
    if (life.t === 'following') await this.stopConsumer(life.consumer);
  }
}
