/**
 * The service's shards: one SpacetimeWriter (one writer connection) per shard database, and the
 * shard map the one routing function (shared/shards/route.ts) reads. Everything that reads or
 * writes a stream asks `of(streamId)`; what is not per stream (the cutover state, the delivery
 * probe, the bridge, shadow parity) lives on the primary shard, the first configured.
 */
import type { Logger } from 'pino';
import { type ShardMap, type ShardMove, shardFor, shardMap } from '../../shared/shards/route.js';
import type { ShardSinks } from '../kafka/shard-sinks.js';
import type { StreamHead } from '../ports/stream-head.js';
import { SpacetimeWriter } from '../spacetime/writer.js';

export interface ShardTarget {
  readonly name: string;
  readonly uri: string;
  readonly database: string;
  readonly token?: string;
}

export interface Shard extends ShardTarget {
  readonly writer: SpacetimeWriter;
  /** Every SpacetimeDB connection to this shard bounds each attempt by it (../spacetime/connect-deadline.ts). */
  readonly connectTimeoutMs?: number;
}

export class ShardSet {
  private readonly byName: ReadonlyMap<string, Shard>;

  private constructor(
    readonly map: ShardMap,
    private readonly list: readonly Shard[],
  ) {
    this.byName = new Map(list.map((s) => [s.name, s]));
  }

  /**
   * Opens one writer per shard; each connects in the background and retries with capped backoff
   * for as long as its shard is away (../spacetime/writer.ts). The service waits for all of them
   * at start (`waitConnected`): the Kafka loop must know every shard's cursor to place a partition.
   * A shard lost *after* start only holds back its own streams.
   */
  static open(
    targets: readonly ShardTarget[],
    o: {
      logger: Logger;
      onConnected?: (shard: string) => void;
      /** Streams a reshard moved: they route to their new shard. */
      moves?: readonly ShardMove[];
      /** Reducer calls each writer keeps in flight at once (../spacetime/call-window.ts). */
      maxInFlight?: number;
      /** One connection attempt's bound (`SPACETIMEDB_CONNECT_TIMEOUT_MS`). */
      connectTimeoutMs?: number;
    },
  ): ShardSet {
    const map = shardMap(
      targets.map((t) => t.name),
      o.moves,
    );
    const shards = targets.map((t) => ({
      ...t,
      ...(o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      writer: SpacetimeWriter.open({
        uri: t.uri,
        database: t.database,
        ...(t.token ? { token: t.token } : {}),
        logger: o.logger.child({ shard: t.name }),
        ...(o.onConnected ? { onConnected: () => o.onConnected?.(t.name) } : {}),
        ...(o.maxInFlight ? { maxInFlight: o.maxInFlight } : {}),
        ...(o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      }),
    }));
    return new ShardSet(map, shards);
  }

  /** Resolves once every shard's writer is connected; rejects (naming the shard) after `ms`. */
  async waitConnected(ms: number): Promise<void> {
    await Promise.all(
      this.list.map((s) =>
        s.writer.waitConnected(ms).catch((e: unknown) => {
          if (e instanceof Error && this.list.length > 1) e.message = `shard '${s.name}': ${e.message}`;
          throw e;
        }),
      ),
    );
  }

  /** Why the first shard that is not connected last failed, named (for /readyz). */
  get problem(): string | undefined {
    for (const s of this.list) {
      const err = s.writer.connection.lastError;
      if (!s.writer.isConnected && err !== undefined)
        return this.list.length > 1 ? `shard '${s.name}': ${err}` : err;
    }
    return undefined;
  }

  /** The first configured shard: home of what is not per stream. */
  get primary(): Shard {
    return this.list[0] as Shard;
  }

  all(): readonly Shard[] {
    return this.list;
  }

  named(name: string): Shard {
    const s = this.byName.get(name);
    if (!s) throw new Error(`no shard '${name}'`);
    return s;
  }

  /** The shard holding a stream. */
  of(streamId: string): Shard {
    return this.named(shardFor(this.map, streamId));
  }

  /** One stream's head, from its shard's writer. */
  stream(streamId: string): StreamHead | undefined {
    return this.of(streamId).writer.stream(streamId);
  }

  /** Every stream head of every shard (a stream lives on one shard only). */
  streams(): Map<string, StreamHead> {
    const out = new Map<string, StreamHead>();
    for (const s of this.list) for (const [id, head] of s.writer.streams()) out.set(id, head);
    return out;
  }

  /** Shards whose writer is not connected now, by name (/readyz names them). */
  down(): string[] {
    return this.list.filter((s) => !s.writer.isConnected).map((s) => s.name);
  }

  /** The Kafka batch loop's view (../kafka/shard-sinks.ts). */
  sinks(): ShardSinks {
    return {
      names: this.list.map((s) => s.name),
      route: (streamId) => shardFor(this.map, streamId),
      sink: (name) => this.named(name).writer,
      up: (name) => this.named(name).writer.isConnected,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((s) => s.writer.close()));
  }
}
