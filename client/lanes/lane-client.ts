/**
 * A desktop client that follows the cutover: it asks which lane to use (the service's RouteClient,
 * a stable answer per client id), consumes the legacy lane (topics, `LegacyLaneClient`) or SpacetimeDB
 * (streams, `SyncClient`), and switches when the answer changes — delivering every event exactly once
 * across the switch: the new lane resumes from the last position it knew (or from the start of retained
 * history) and what the application already has is skipped by authority identity (./delivered.ts).
 *
 * With a persistent cursor store (`store`, e.g. the client library's FileCursorStore) a restarted
 * client resumes where it was, on either lane: the store keeps each stream's delivered mark (authority
 * seq, `mark:<stream>`), the legacy lane's watermark per topic (`legacy:<topic>`) and SpacetimeDB's
 * cursor per stream (`spacetime:<stream>`, written by the SyncClient itself). The mark is saved after
 * the application's onEvent returned and before the lane's own position, and close() waits for the
 * saves: a client closed and opened again neither loses nor repeats an event. A crash between
 * onEvent and the save can hand that event over again (the mark is not in the application's
 * transaction). The legacy lane's socket is kept up by ./legacy-follower.ts (reconnect with backoff).
 *
 *   idle ──open──► following(lane) ──route answer differs──► switching(from, to) ──► following(to)
 *                        └──────────────── close ──────────────────────┴──────────► closed
 */
import type { LegacyUpdate } from '../../legacy/client/index.js';
import { GEN1_RULES, LaneMapping, MappingError } from '../../parity/mapping.js';
import type { ShardMove } from '../../shared/shards/route.js';
import { type Cursor, type CursorStore, MemoryCursorStore } from '../cursor-store.js';
import { type ShardEndpoint, ShardedSyncClient } from '../sharded-client.js';
import { SyncClient, type SyncClientOptions, type SyncEvent } from '../sync-client.js';
import { DeliveredMarks } from './delivered.js';
import { LegacyFollower, type LegacyFollowerOptions } from './legacy-follower.js';

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
    /**
     * Sharded: every shard's database; each stream is followed on the shard the one routing
     * function names (../sharded-client.ts), moved streams on their new shard.
     */
    readonly shards?: readonly ShardEndpoint[];
    readonly moves?: readonly ShardMove[];
  };
  readonly legacy: {
    readonly url: string;
    readonly token: () => Promise<string>;
    /** Reconnect delay after a dropped socket (default 100 ms doubling to 5 s, with jitter). */
    readonly backoff?: LegacyFollowerOptions['backoff'];
  };
  /** Where positions survive a restart (default: memory, i.e. they do not). */
  readonly store?: CursorStore;
  /** The streams followed; their legacy topics are derived through the mapping. */
  readonly streams: readonly string[];
  readonly topics: readonly string[];
  readonly mapping?: LaneMapping;
  readonly onEvent: (e: LaneEvent) => void;
  readonly onSwitch?: (from: Lane, to: Lane) => void;
  readonly onError?: (e: unknown) => void;
}

type Consumer =
  | { readonly lane: 'legacy'; readonly client: LegacyFollower }
  | { readonly lane: 'spacetime'; readonly client: SyncClient | ShardedSyncClient };

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
  /** The legacy lane's resume hint per topic (SpacetimeDB's lives in the store, per stream). */
  private readonly legacyAfter = new Map<string, number>();
  private readonly followed: ReadonlySet<string>;
  private readonly store: CursorStore;
  /** Saves not yet known to be written; close() waits for them. */
  private readonly saving = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private routing = false;

  private constructor(private readonly o: LaneClientOptions) {
    this.mapping = o.mapping ?? new LaneMapping(GEN1_RULES);
    this.followed = new Set(o.streams);
    this.store = o.store ?? new MemoryCursorStore();
  }

  static async open(o: LaneClientOptions): Promise<LaneClient> {
    const c = new LaneClient(o);
    for (const s of o.streams) {
      const mark = await c.store.load(`mark:${s}`);
      if (mark) c.marks.restore(s, mark.watermark);
    }
    for (const t of o.topics) {
      const w = await c.store.load(`legacy:${t}`);
      if (w && w.watermark > 0n) c.legacyAfter.set(t, Number(w.watermark));
    }
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

  private save(key: string, cursor: Cursor): Promise<void> {
    const p = this.store.save(key, cursor).catch((e) => this.o.onError?.(e));
    this.saving.add(p);
    void p.finally(() => this.saving.delete(p));
    return p;
  }

  /** Hands a new event to the application, then records it delivered (the save, to be awaited or not). */
  private deliver(e: LaneEvent): Promise<void> | undefined {
    if (!this.followed.has(e.streamId)) return undefined;
    if (!this.marks.admit(e.streamId, e.authoritySeq)) return undefined;
    this.o.onEvent(e);
    return this.save(`mark:${e.streamId}`, { epoch: 0n, watermark: e.authoritySeq });
  }

  private async openSpacetime(): Promise<Consumer> {
    const store = this.store;
    const { shards, moves, ...spacetime } = this.o.spacetime;
    const common: Pick<SyncClientOptions, 'clientId' | 'store' | 'onEvent'> = {
      clientId: spacetime.clientId,
      // The SyncClient keeps its own cursors here, under a prefix of their own.
      store: {
        load: (streamId) => store.load(`spacetime:${streamId}`),
        save: (streamId, cursor) => this.save(`spacetime:${streamId}`, cursor),
      },
      // It saves its cursor once this resolves: the mark is saved first.
      onEvent: async (streamId: string, e: SyncEvent) => {
        await this.deliver({
          lane: 'spacetime',
          streamId,
          authorityTopic: e.sourceTopic,
          authoritySeq: e.sourceSeq,
          payload: JSON.parse(decoder.decode(e.payload)),
        });
      },
    };
    const client = shards
      ? await ShardedSyncClient.open(this.o.streams, { ...common, shards, ...(moves ? { moves } : {}) })
      : await SyncClient.open(this.o.streams, { ...spacetime, ...common });
    return { lane: 'spacetime', client };
  }

  private async openLegacy(): Promise<Consumer> {
    const client = await LegacyFollower.start({
      url: this.o.legacy.url,
      token: this.o.legacy.token,
      topics: this.o.topics,
      ...(this.o.legacy.backoff ? { backoff: this.o.legacy.backoff } : {}),
      resumeAfter: () => Object.fromEntries(this.legacyAfter),
      // A watermark the lane no longer retains: replay those topics from the start; the marks skip
      // what was delivered, so this costs replay, not duplicates.
      onStale: (topics) => {
        for (const t of topics) {
          this.legacyAfter.delete(t);
          void this.save(`legacy:${t}`, { epoch: 0n, watermark: 0n });
        }
      },
      onError: (e) => this.o.onError?.(e),
      onUpdate: (u: LegacyUpdate) => {
        this.legacyUpdate(u);
        if (u.watermark > (this.legacyAfter.get(u.topic) ?? 0)) {
          this.legacyAfter.set(u.topic, u.watermark);
          // Saved after the mark (saves are applied in order): the hint is never ahead of it.
          void this.save(`legacy:${u.topic}`, { epoch: 0n, watermark: BigInt(u.watermark) });
        }
      },
    });
    return { lane: 'legacy', client };
  }

  private legacyUpdate(u: LegacyUpdate): void {
    let streamId: string;
    try {
      streamId = this.mapping.streamOf(
        this.mapping.fromLegacy({ topic: u.topic, docKey: u.docKey, docVersion: BigInt(u.docVersion) }),
      );
    } catch (e) {
      if (e instanceof MappingError) return; // another principal's document on a shared topic
      throw e;
    }
    void this.deliver({
      lane: 'legacy',
      streamId,
      authorityTopic: u.topic,
      authoritySeq: BigInt(u.docVersion),
      payload: u.payload,
    });
  }

  private async stopConsumer(c: Consumer): Promise<void> {
    await c.client.close();
  }

  /** The legacy lane's reconnects after dropped sockets (while it is the lane followed). */
  get legacyReconnects(): number {
    return this.life.t === 'following' && this.life.consumer.lane === 'legacy'
      ? this.life.consumer.client.reconnected
      : 0;
  }

  async close(): Promise<void> {
    const life = this.life;
    this.life = { t: 'closed' };
    clearInterval(this.timer);
    if (life.t === 'following') await this.stopConsumer(life.consumer);
    await Promise.all([...this.saving]);
  }
}
