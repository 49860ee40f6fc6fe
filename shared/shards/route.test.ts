import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashedShard, ShardMapError, type ShardMove, shardFor, shardMap } from './route.js';

const names = (n: number) => Array.from({ length: n }, (_, i) => `shard-${i}`);
const streamIds = fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' });

describe('shardFor', () => {
  it('is stable: the same stream routes to the same shard, whatever the order of the list', () => {
    fc.assert(
      fc.property(streamIds, fc.integer({ min: 1, max: 8 }), fc.integer(), (id, n, seed) => {
        const shards = names(n);
        const shuffled = [...shards].sort((a, b) => (a + seed).localeCompare(b + seed));
        const a = shardFor(shardMap(shards), id);
        expect(shardFor(shardMap(shards), id)).toBe(a);
        expect(shardFor(shardMap(shuffled), id)).toBe(a);
        expect(shards).toContain(a);
      }),
    );
  });

  it('pins known answers, so a change of the hash (which would strand every stream) fails here', () => {
    // Computed once from this implementation; every deployment's data sits where these say.
    const map = shardMap(names(3));
    const ids = ['orders:1', 'orders:2', 'orders:3', 'runtime:session-7', 'Ω:ü'];
    expect(ids.map((s) => shardFor(map, s))).toEqual(['shard-2', 'shard-2', 'shard-1', 'shard-2', 'shard-2']);
  });

  it('spreads streams evenly: each of 3 and of 8 shards gets its share within 10% over 30,000 ids', () => {
    for (const n of [3, 8]) {
      const map = shardMap(names(n));
      const counts = new Map<string, number>();
      const total = 30_000;
      for (let i = 0; i < total; i++) {
        const s = shardFor(map, `orders:${i}`);
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
      expect(counts.size).toBe(n);
      for (const c of counts.values()) expect(Math.abs(c - total / n)).toBeLessThan((total / n) * 0.1);
    }
  });

  it('adding a shard moves only streams onto the new shard, about 1/(N+1) of them', () => {
    const total = 20_000;
    for (const n of [1, 2, 3, 7]) {
      const before = names(n);
      const after = names(n + 1);
      const added = after[n] as string;
      let moved = 0;
      for (let i = 0; i < total; i++) {
        const id = `session:${i}`;
        const was = hashedShard(before, id);
        const now = hashedShard(after, id);
        if (was !== now) {
          expect(now).toBe(added);
          moved++;
        }
      }
      expect(Math.abs(moved - total / (n + 1))).toBeLessThan((total / (n + 1)) * 0.1);
    }
  });

  it('removing a shard moves only the streams it held', () => {
    fc.assert(
      fc.property(
        fc.array(streamIds, { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 0, max: 3 }),
        (ids, gone) => {
          const all = names(4);
          const rest = all.filter((_, i) => i !== gone);
          for (const id of ids) {
            const was = hashedShard(all, id);
            if (was !== all[gone]) expect(hashedShard(rest, id)).toBe(was);
          }
        },
      ),
    );
  });

  it('a move table moves exactly the streams it names, to the shard it names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(streamIds, { minLength: 2, maxLength: 100 }), fc.nat(), (ids, pick) => {
        const shards = names(3);
        const plain = shardMap(shards);
        const movedIds = ids.filter((_, i) => (i + pick) % 3 === 0);
        const moves: ShardMove[] = movedIds.map((stream) => {
          const from = shardFor(plain, stream);
          const to = shards.find((s) => s !== from) as string;
          return { stream, from, to, atSeq: 5n };
        });
        const map = shardMap(shards, moves);
        for (const id of ids) {
          const m = moves.find((x) => x.stream === id);
          if (m) {
            expect(shardFor(map, id)).toBe(m.to);
            expect(shardFor(map, id)).not.toBe(shardFor(plain, id));
          } else {
            expect(shardFor(map, id)).toBe(shardFor(plain, id));
          }
        }
      }),
    );
  });

  it('the latest move of a stream wins', () => {
    const map = shardMap(names(3), [
      { stream: 'a', from: 'shard-0', to: 'shard-1', atSeq: 3n },
      { stream: 'a', from: 'shard-1', to: 'shard-2', atSeq: 9n },
    ]);
    expect(shardFor(map, 'a')).toBe('shard-2');
    expect(map.moves.get('a')?.atSeq).toBe(9n);
  });

  it('refuses maps that cannot route, saying why', () => {
    expect(() => shardMap([])).toThrow(ShardMapError);
    expect(() => shardMap(['a', 'a'])).toThrow(/listed twice/);
    expect(() => shardMap(['A b'])).toThrow(/shard name 'A b'/);
    expect(() => shardMap(['a'], [{ stream: 's', from: 'a', to: 'b', atSeq: 1n }])).toThrow(
      /unknown shard 'b'/,
    );
    expect(() => shardMap(['a', 'b'], [{ stream: 's', from: 'a', to: 'b', atSeq: 0n }])).toThrow(/seq of 1/);
  });
});
