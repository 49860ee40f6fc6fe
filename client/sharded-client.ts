/**
 * A desktop client over sharded streams: the streams are grouped by the shard the one routing
 * function (shared/shards/route.ts) names, and one SyncClient follows each shard's group on that
 * shard's database. Everything else — resume from the store, replay then live, rebootstrap — is
 * each SyncClient's own; the store is shared, cursors being per stream.
 */
import { type ShardMap, type ShardMove, shardFor, shardMap } from '../shared/shards/route.js';
import type { SyncClientError } from './client-error.js';
import { SyncClient, type SyncClientOptions } from './sync-client.js';

/** Where a shard's database is, and the token this client reads it with. */
export interface ShardEndpoint {
  readonly name: string;
  readonly uri: string;
  readonly database: string;
  readonly token?: string;
}

export interface ShardedClientOptions extends Omit<SyncClientOptions, 'uri' | 'database' | 'token'> {
  readonly shards: readonly ShardEndpoint[];
  /** Streams moved by a reshard (the operator's move table); absent: the hash alone routes. */
  readonly moves?: readonly ShardMove[];
}

/** The endpoint of `streamId` among `shards`: the routing function's answer, by shard name. */
export function endpointFor(
  shards: readonly ShardEndpoint[],
  streamId: string,
  map: ShardMap = shardMap(shards.map((s) => s.name)),
): ShardEndpoint {
  const name = shardFor(map, streamId);
  return shards.find((s) => s.name === name) as ShardEndpoint;
}

export class ShardedSyncClient {
  private constructor(readonly clients: ReadonlyMap<string, SyncClient>) {}

  /** Opens one SyncClient per shard that holds any of `streamIds`. */
  static async open(streamIds: readonly string[], o: ShardedClientOptions): Promise<ShardedSyncClient> {
    const map = shardMap(
      o.shards.map((s) => s.name),
      o.moves,
    );
    const groups = new Map<ShardEndpoint, string[]>();
    for (const id of streamIds) {
      const e = endpointFor(o.shards, id, map);
      groups.set(e, [...(groups.get(e) ?? []), id]);
    }
    const { shards: _shards, moves: _moves, ...common } = o;
    const clients = new Map<string, SyncClient>();
    try {
      for (const [e, ids] of groups) {
        clients.set(
          e.name,
          await SyncClient.open(ids, {
            ...common,
            uri: e.uri,
            database: e.database,
            ...(e.token ? { token: e.token } : {}),
          }),
        );
      }
    } catch (err) {
      await Promise.all([...clients.values()].map((c) => c.close()));
      throw err;
    }
    return new ShardedSyncClient(clients);
  }

  /** The first typed error that closed any shard's client (undefined: closed on request). */
  whenClosed(): Promise<SyncClientError | undefined> {
    return Promise.race([...this.clients.values()].map((c) => c.whenClosed()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
  }
}
