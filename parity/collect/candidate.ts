/**
 * Collects what a resuming spacetime-sync client receives: our own SyncClient (the library desktop
 * clients use), resumed from chosen positions, recording each event as the application gets it and
 * each rebootstrap. Reconnects across host restarts are the client's own.
 */
import { MemoryCursorStore } from '../../client/cursor-store.js';
import { type ShardEndpoint, ShardedSyncClient } from '../../client/sharded-client.js';
import {
  type ClientState,
  type RebootstrapReason,
  SyncClient,
  type SyncClientOptions,
  type SyncEvent,
} from '../../client/sync-client.js';
import type { Collector } from '../harness.js';
import type { CandidateEntry, CandidateEvent } from '../observation.js';

export interface CandidateTarget {
  readonly uri: string;
  readonly database: string;
  readonly token?: string;
  /**
   * Sharded candidates: every shard's database; each stream is followed on the shard the one
   * routing function names (client/sharded-client.ts). `uri`/`database` are then the first shard's.
   */
  readonly shards?: readonly ShardEndpoint[];
  /** Called before following `streams`, to obtain read grants for them (a writer grants itself). */
  readonly grant?: (streams: readonly string[]) => Promise<void>;
}

/** The one place parity reads binding row fields. */
function toCandidateEvent(e: SyncEvent, atMs: number): CandidateEvent {
  return {
    streamId: e.streamId,
    seq: e.seq,
    sourceTopic: e.sourceTopic,
    sourceSeq: e.sourceSeq,
    idempotencyKey: e.idempotencyKey,
    payload: e.payload,
    payloadHash: e.payloadHash,
    atMs,
  };
}

/** The reason with its numbers, e.g. `server_behind (applied up to 841, server head 839)`. */
function describeReason(r: RebootstrapReason): string {
  switch (r.kind) {
    case 'epoch_changed':
      return `epoch_changed (epoch ${r.fromEpoch} -> ${r.toEpoch})`;
    case 'below_low_watermark':
      return `below_low_watermark (at ${r.watermark}, low watermark ${r.lowWatermark})`;
    case 'server_behind':
      return `server_behind (applied up to ${r.watermark}, server head ${r.headSeq})`;
  }
}

/** Both collectors reconnect at this pace (legacy.ts uses the same cap). */
export const RECONNECT = { baseMs: 50, capMs: 2_000 } as const;

/** The longest timer Node keeps (about 24.8 days); longer ones fire at once. */
const NEVER_MS = 2_147_483_647;

export class CandidateCollector implements Collector<CandidateEntry> {
  readonly entries: CandidateEntry[] = [];
  private readonly positions = new Map<string, bigint>();
  private client: SyncClient | ShardedSyncClient | undefined;
  private state: ClientState | 'not started' | 'no streams to follow' = 'not started';
  private detail = '';

  constructor(
    private readonly target: CandidateTarget,
    readonly streams: readonly string[],
    /** Per stream, the seq to resume after (absent: from the start). */
    private readonly from: ReadonlyMap<string, bigint> = new Map(),
    /** Told of each rebootstrap as it happens (a chaos run logs it, so its report says when and why). */
    private readonly onRebootstrap?: (streamId: string, reason: string) => void,
  ) {
    for (const [stream, seq] of from) this.positions.set(stream, seq);
  }

  async start(): Promise<void> {
    if (this.streams.length === 0) {
      this.state = 'no streams to follow';
      return;
    }
    await this.target.grant?.(this.streams);
    const options: Omit<SyncClientOptions, 'uri' | 'database' | 'token'> = {
      // One id for every parity run, so the checkpoints of its final acks do not pile up run after run.
      clientId: 'spacetime-sync-parity',
      store: new MemoryCursorStore(),
      startAfter: this.from,
      // The same reconnect pace as the legacy collector, so time to parity compares the lanes, not two
      // clients' backoff policies.
      backoff: RECONNECT,
      // An observer should not move the lane: a checkpoint it acked and then left behind would make
      // retention bump the stream's epoch under every real client. SyncClient acks once more at close.
      ackIntervalMs: NEVER_MS,
      onEvent: (stream, e) => {
        this.entries.push({ kind: 'event', event: toCandidateEvent(e, Date.now()) });
        this.positions.set(stream, e.seq);
      },
      onRebootstrap: (info) => {
        this.entries.push({
          kind: 'rebootstrap',
          streamId: info.streamId,
          reason: info.reason.kind,
          atMs: Date.now(),
        });
        this.onRebootstrap?.(info.streamId, describeReason(info.reason));
      },
      onState: (state, detail) => {
        this.state = state;
        this.detail = detail ?? '';
      },
    };
    const t = this.target;
    this.client = t.shards
      ? await ShardedSyncClient.open(this.streams, { ...options, shards: t.shards })
      : await SyncClient.open(this.streams, {
          ...options,
          uri: t.uri,
          database: t.database,
          ...(t.token ? { token: t.token } : {}),
        });
  }

  /** Drops recorded entries that fail `pred` (shadow mode forgets what it has accounted for). */
  retain(pred: (e: CandidateEntry) => boolean): void {
    const kept = this.entries.filter(pred);
    this.entries.length = 0;
    for (const e of kept) this.entries.push(e);
  }

  /** Per stream, the last seq delivered (where a replacement client resumes). */
  delivered(): ReadonlyMap<string, bigint> {
    return this.positions;
  }

  get events(): number {
    return this.entries.filter((e) => e.kind === 'event').length;
  }

  /** For the progress line. */
  describe(): string {
    return `${this.state}${this.detail ? ` (${this.detail})` : ''}`;
  }

  /** Set if the client closed itself (e.g. a rebootstrap loop): parity cannot go on blind. */
  get failure(): string | undefined {
    return this.state === 'closed' && this.client ? this.detail || 'client closed' : undefined;
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.close();
  }
}
