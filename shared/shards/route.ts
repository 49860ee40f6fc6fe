/**
 * The one routing function: stream id → shard name. The adapter's writers, the Connect ingest, the
 * desktop client, the CLI, and the parity and cutover tools all route with `shardFor`, so a stream
 * is read where it is written.
 *
 * Why rendezvous hashing (highest random weight) over the shard names, not `hash % N`: adding a
 * shard moves only the streams whose highest weight is now the new shard (about 1/(N+1) of them),
 * and every other stream keeps its shard; removing one moves only that shard's streams. The weight
 * depends on the shard's *name*, never on its position in the list, so reordering the configuration
 * changes nothing. The hash is a pure function of the bytes (FNV-1a then a murmur3 finaliser, so
 * similar ids spread), the same in Node and in a desktop client, with no platform crypto.
 *
 * Hashing alone cannot move one chosen stream, and a reshard must move streams at a moment the
 * operator picks: the move table overrides the hash for the streams it names. A move records the seq
 * at which writes switched to the new shard (`atSeq`); history below it was copied there first, so
 * every read of a moved stream goes to the new shard too.
 */

export interface ShardMove {
  readonly stream: string;
  /** The shard the hash (or an earlier move) gave the stream. */
  readonly from: string;
  readonly to: string;
  /** The first seq written on `to`; seqs below it were copied from `from` before the switch. */
  readonly atSeq: bigint;
}

export interface ShardMap {
  /** Shard names, unique; order is irrelevant to routing. */
  readonly shards: readonly string[];
  readonly moves: ReadonlyMap<string, ShardMove>;
}

/** A shard map that cannot route: empty, duplicate or malformed names, a move to an unknown shard. */
export class ShardMapError extends Error {
  override readonly name = 'ShardMapError';
}

/** Shard names: what a metric label, a database suffix and a configuration key can all carry. */
export const SHARD_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function shardMap(shards: readonly string[], moves: readonly ShardMove[] = []): ShardMap {
  if (shards.length === 0) throw new ShardMapError('at least one shard is needed');
  const seen = new Set<string>();
  for (const s of shards) {
    if (!SHARD_NAME.test(s)) {
      throw new ShardMapError(
        `shard name '${s}' must be 1-63 of a-z, 0-9, '_' or '-', starting alphanumeric`,
      );
    }
    if (seen.has(s)) throw new ShardMapError(`shard '${s}' is listed twice`);
    seen.add(s);
  }
  const table = new Map<string, ShardMove>();
  for (const m of moves) {
    if (!seen.has(m.to)) throw new ShardMapError(`move of '${m.stream}' names unknown shard '${m.to}'`);
    if (m.atSeq < 1n) throw new ShardMapError(`move of '${m.stream}' must switch at a seq of 1 or more`);
    // A later move of the same stream replaces the earlier one: the table says where it is now.
    table.set(m.stream, m);
  }
  return { shards: [...shards], moves: table };
}

/** Where the hash alone puts a stream (ignoring moves): what `plan` compares a new shard list with. */
export function hashedShard(shards: readonly string[], streamId: string): string {
  let best = shards[0] as string;
  let bestWeight = -1;
  for (const shard of shards) {
    const w = weight(shard, streamId);
    // Ties (astronomically rare) go to the smaller name, so the answer never depends on list order.
    if (w > bestWeight || (w === bestWeight && shard < best)) {
      best = shard;
      bestWeight = w;
    }
  }
  return best;
}

/** The shard that holds `streamId`: its move's target if it was moved, else the hash's choice. */
export function shardFor(map: ShardMap, streamId: string): string {
  return map.moves.get(streamId)?.to ?? hashedShard(map.shards, streamId);
}

const encoder = new TextEncoder();

/** 32-bit weight of (shard, stream): FNV-1a over `shard \0 stream` (UTF-8), murmur3's fmix32 after. */
function weight(shard: string, streamId: string): number {
  let h = 0x811c9dc5;
  const feed = (bytes: Uint8Array) => {
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  };
  feed(encoder.encode(shard));
  feed(Uint8Array.of(0));
  feed(encoder.encode(streamId));
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
