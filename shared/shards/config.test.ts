import { describe, expect, it } from 'vitest';
import { embeddedDatabase, embeddedShardCount, remoteShards } from './config.js';

class Bad extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}
const fail = (v: string, m: string) => new Bad(v, m);

describe('SPACETIMEDB_SHARDS', () => {
  it('lists shards with their database as the URI path, or SPACETIMEDB_DB', () => {
    expect(
      remoteShards(
        { SPACETIMEDB_SHARDS: 'a=wss://h1.example:443/sync-a, b=ws://10.0.0.2:3000', SPACETIMEDB_DB: 'sync' },
        fail,
      ),
    ).toEqual([
      { name: 'a', uri: 'wss://h1.example:443', database: 'sync-a' },
      { name: 'b', uri: 'ws://10.0.0.2:3000', database: 'sync' },
    ]);
    expect(remoteShards({}, fail)).toBeUndefined();
    expect(
      remoteShards({ SPACETIMEDB_SHARDS: 'shard-1=ws://h:1/x', SPACETIMEDB_SHARD_TOKEN_SHARD_1: 't1' }, fail),
    ).toEqual([{ name: 'shard-1', uri: 'ws://h:1', database: 'x', token: 't1' }]);
  });

  it.each([
    [{ SPACETIMEDB_SHARDS: 'a=ws://h:1/x', SPACETIMEDB_URI: 'ws://h:1' }, /replaces SPACETIMEDB_URI/],
    [{ SPACETIMEDB_SHARDS: 'a' }, /'a' is not name=uri/],
    [{ SPACETIMEDB_SHARDS: 'A=ws://h:1/x' }, /shard name 'A'/],
    [{ SPACETIMEDB_SHARDS: 'a=ftp://h/x' }, /must be a ws:\/\//],
    [{ SPACETIMEDB_SHARDS: 'a=ws://h:1' }, /names no database/],
    [{ SPACETIMEDB_SHARDS: 'a=ws://h:1/x,a=ws://h:2/y' }, /listed twice/],
    [{ SPACETIMEDB_SHARDS: 'a=ws://h:1/x,b=ws://h:1/x' }, /repeats database/],
    [{ SPACETIMEDB_SHARDS: 'a=ws://h:1/x', SPACETIMEDB_SHARD_COUNT: '2' }, /embedded devhost only/],
  ])('refuses %j naming the variable', (env, why) => {
    let caught: unknown;
    try {
      remoteShards(env, fail);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Bad);
    expect((caught as Bad).message).toMatch(why);
    expect((caught as Bad).variable).toMatch(/^SPACETIMEDB_SHARD/);
  });
});

describe('SPACETIMEDB_SHARD_COUNT', () => {
  it('defaults to 1 and takes 1-16', () => {
    expect(embeddedShardCount({}, fail)).toBe(1);
    expect(embeddedShardCount({ SPACETIMEDB_SHARD_COUNT: '3' }, fail)).toBe(3);
    for (const bad of ['0', '17', '2.5', 'x']) {
      expect(() => embeddedShardCount({ SPACETIMEDB_SHARD_COUNT: bad }, fail)).toThrow(
        /SPACETIMEDB_SHARD_COUNT/,
      );
    }
  });

  it('keeps the unsharded database name for the first shard', () => {
    expect([0, 1, 2].map((i) => embeddedDatabase('spacetime-sync', i))).toEqual([
      'spacetime-sync',
      'spacetime-sync-shard-1',
      'spacetime-sync-shard-2',
    ]);
  });
});
