import { Identity } from 'spacetimedb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleSchema } from '../contract.js';
import { QueryCache, SqlError } from './index.js';
import { encodeRow, loadSchema, SQL_MODULE } from './testing/schema.js';

let schema: ModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(SQL_MODULE);
});

const ALICE = { sender: 0xa11cen, isOwner: false };
const BOB = { sender: 0xb0bn, isOwner: false };
const OWN = 'SELECT * FROM doc WHERE owner = :sender';
const doc = (owner: bigint) =>
  encodeRow(schema, 'doc', { id: 1, owner: new Identity(owner), shared: false, title: 't' });

describe('compiled queries kept per caller and text (QueryCache)', () => {
  it('compiles a caller’s query once and hands the same plan back when it subscribes to it again', () => {
    const cache = new QueryCache();
    const first = cache.compile(OWN, schema, ALICE);
    expect(cache.compile(OWN, schema, ALICE)).toBe(first);
    expect(cache.size(schema)).toBe(1);
  });

  it('never hands one identity’s plan to another: :sender stays each caller’s own', () => {
    const cache = new QueryCache();
    const [alice] = cache.compile(OWN, schema, ALICE);
    const [bob] = cache.compile(OWN, schema, BOB);
    expect(bob).not.toBe(alice);
    expect([alice?.matches(doc(ALICE.sender)), alice?.matches(doc(BOB.sender))]).toEqual([true, false]);
    expect([bob?.matches(doc(ALICE.sender)), bob?.matches(doc(BOB.sender))]).toEqual([false, true]);
  });

  it('applies the caller’s term limit on a cached plan too', () => {
    const cache = new QueryCache();
    const sql = 'SELECT * FROM doc WHERE id = 1 AND shared = false';
    cache.compile(sql, schema, ALICE);
    const limit = (max: number) => (terms: number) => {
      if (terms > max) throw new Error(`${terms} comparisons, over ${max}`);
    };
    expect(() => cache.compile(sql, schema, ALICE, limit(1))).toThrow('2 comparisons, over 1');
    expect(cache.compile(sql, schema, ALICE, limit(2))).toHaveLength(1);
  });

  it('keeps nothing for a query that does not compile: it is refused every time', () => {
    const cache = new QueryCache();
    for (let i = 0; i < 2; i++)
      expect(() => cache.compile('SELECT * FROM nope', schema, ALICE)).toThrow(SqlError);
    expect(cache.size(schema)).toBe(0);
  });

  it('is bounded by the bytes of query text it holds, dropping the least recently used', () => {
    const queries = [0, 1, 2].map((i) => `SELECT * FROM doc WHERE id = ${i}`);
    const keyBytes = `client ${ALICE.sender.toString(16)} ${queries[0]}`.length;
    const cache = new QueryCache(2 * keyBytes);
    const first = cache.compile(queries[0] as string, schema, ALICE);
    cache.compile(queries[1] as string, schema, ALICE);
    cache.compile(queries[0] as string, schema, ALICE); // the first is now the most recently used
    cache.compile(queries[2] as string, schema, ALICE);
    expect(cache.size(schema)).toBe(2);
    expect(cache.compile(queries[0] as string, schema, ALICE)).toBe(first);
    expect(cache.size(schema)).toBe(2);
  });
});
