/**
 * Join queries as SpacetimeDB's query builder writes them (`leftSemijoin` / `rightSemijoin`), compiled
 * against the reference module: what they return, how rows of each side are tested and keyed, and the
 * compiler rules SpacetimeDB applies to joins.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleSchema } from '../contract.js';
import { type CompiledQuery, compileQuery, type SqlAuth, SqlError, type SqlErrorKind } from './index.js';
import { encodeRow, loadSchema, TEST_MODULE } from './testing/schema.js';

let schema: ModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(TEST_MODULE);
});

const anyone: SqlAuth = { sender: 42n, isOwner: false };
const compile = (sql: string): CompiledQuery => {
  const [q] = compileQuery(sql, schema, anyone);
  if (!q) throw new Error('no fragment');
  return q;
};
const person = (name: string, age: number, team = 't') =>
  encodeRow(schema, 'person', { id: 1n, name, age, team, level: 1 });
const counter = (name: string, value: bigint) => encodeRow(schema, 'counter', { name, value });

describe('join queries', () => {
  it('rightSemijoin: returns the JOINed table, keyed by the join columns on both sides', () => {
    // tables.counter.rightSemijoin(tables.person, (c, p) => c.name.eq(p.name))
    const q = compile('SELECT "person".* FROM "counter" JOIN "person" ON "counter"."name" = "person"."name"');
    expect(q.table.name).toBe('person');
    expect(q.semijoin?.lookup.name).toBe('counter');
    expect(q.semijoin?.keyOf(person('ann', 30))).toBe(q.semijoin?.lookupKeyOf(counter('ann', 5n)));
    expect(q.semijoin?.keyOf(person('ann', 30))).not.toBe(q.semijoin?.lookupKeyOf(counter('bob', 5n)));
    expect(q.matches(person('ann', 30))).toBe(true);
    expect(q.semijoin?.lookupMatches(counter('ann', 5n))).toBe(true);
  });

  it("takes each table's WHERE conditions to its own side, as the query builder writes them", () => {
    // tables.counter.where(c => c.value.gt(10n)).rightSemijoin(tables.person, …).where(p => p.age.gte(18))
    const q = compile(
      'SELECT "person".* FROM "counter" JOIN "person" ON "counter"."name" = "person"."name" ' +
        'WHERE ("counter"."value" > 10) AND ("person"."age" >= 18)',
    );
    expect([q.matches(person('ann', 30)), q.matches(person('kid', 9))]).toEqual([true, false]);
    expect([
      q.semijoin?.lookupMatches(counter('ann', 11n)),
      q.semijoin?.lookupMatches(counter('ann', 10n)),
    ]).toEqual([true, false]);
  });

  it('leftSemijoin: the FROM table is returned when the projection names it, and aliases work', () => {
    const q = compile('SELECT c.* FROM counter c JOIN person p ON p.name = c.name WHERE p.age > 3');
    expect(q.table.name).toBe('counter');
    expect(q.semijoin?.lookup.name).toBe('person');
    expect(q.matches(counter('x', 1n))).toBe(true);
    expect([q.semijoin?.lookupMatches(person('a', 4)), q.semijoin?.lookupMatches(person('a', 3))]).toEqual([
      true,
      false,
    ]);
  });

  it('plans an index scan for the returned side’s own conditions', () => {
    const q = compile(
      'SELECT person.* FROM counter JOIN person ON counter.name = person.name WHERE person.age = 30',
    );
    expect(q.indexScan).toBeDefined();
  });
});

describe('join rules, as SpacetimeDB compiles subscriptions', () => {
  const refusal = (sql: string): { kind: SqlErrorKind; message: string } => {
    try {
      compile(sql);
    } catch (e) {
      if (e instanceof SqlError) return { kind: e.kind, message: e.message };
      throw e;
    }
    throw new Error(`accepted: ${sql}`);
  };

  it.each([
    [
      'SELECT message.* FROM counter JOIN message ON counter.name = message.text',
      'unsupported',
      /require indexes on join columns/,
    ],
    [
      'SELECT * FROM counter JOIN person ON counter.name = person.name',
      'unsupported',
      /must return a table type/,
    ],
    [
      'SELECT person.name FROM counter JOIN person ON counter.name = person.name',
      'unsupported',
      /table type/,
    ],
    [
      'SELECT person.* FROM counter JOIN person ON counter.name = person.name WHERE age > 3',
      'unresolved',
      /qualify columns in a join/,
    ],
    ['SELECT person.* FROM counter JOIN person ON counter.name = person.age', 'type', /differ in type/],
    [
      'SELECT person.* FROM counter JOIN person ON counter.name = counter.name',
      'unsupported',
      /a column of each table/,
    ],
    ['SELECT person.* FROM counter JOIN person ON counter.name = person.nope', 'unresolved', /nope/],
    [
      'SELECT x.* FROM counter JOIN person ON counter.name = person.name',
      'unresolved',
      /`x` is not in scope/,
    ],
    [
      'SELECT person.* FROM counter JOIN person ON counter.name = person.name WHERE person.age = counter.value',
      'unsupported',
      /spans both tables/,
    ],
    ['SELECT person.* FROM notice JOIN person ON notice.text = person.name', 'unsupported', /Event tables/],
    [
      'SELECT person.* FROM secret_note JOIN person ON secret_note.text = person.name',
      'unresolved',
      /no such table: `secret_note`/,
    ],
  ] as const)('%s → %s', (sql, kind, message) => {
    const e = refusal(sql);
    expect(e.kind).toBe(kind);
    expect(e.message).toMatch(message);
  });
});
