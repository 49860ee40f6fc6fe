import { Identity } from 'spacetimedb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleSchema } from '../contract.js';
import { type CompiledQuery, compileQuery, type SqlAuth } from './index.js';
import { encodeRow, loadSchema, TEST_MODULE } from './testing/schema.js';

let schema: ModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(TEST_MODULE);
});

const anyone: SqlAuth = { sender: 42n, isOwner: false };
const owner: SqlAuth = { sender: 1n, isOwner: true };

type Person = { id: bigint; name: string; age: number; team: string; level: number };
const person = (p: Partial<Person> = {}) =>
  encodeRow(schema, 'person', { id: 1n, name: 'ann', age: 30, team: 'red', level: 1, ...p });
const note = (ownerId: bigint, text = 'x') =>
  encodeRow(schema, 'secret_note', { id: 1n, owner: new Identity(ownerId), text });

function only(sql: string, auth: SqlAuth = anyone): CompiledQuery {
  const fragments = compileQuery(sql, schema, auth);
  expect(fragments).toHaveLength(1);
  return fragments[0] as CompiledQuery;
}
const matches = (sql: string, row: Uint8Array, auth: SqlAuth = anyone) => only(sql, auth).matches(row);

describe('the SQL the TypeScript SDK emits (spec §4.3)', () => {
  it('whole table, one clause, AND/OR of parenthesised clauses, escaped quotes', () => {
    expect(matches('SELECT * FROM "person"', person())).toBe(true);
    expect(matches(`SELECT * FROM "person" WHERE "person"."name" = 'x'`, person({ name: 'x' }))).toBe(true);
    expect(matches(`SELECT * FROM "person" WHERE "person"."name" = 'x'`, person({ name: 'y' }))).toBe(false);
    const and = `SELECT * FROM "person" WHERE ("person"."name" = 'o''neil') AND ("person"."age" >= 18)`;
    expect(matches(and, person({ name: "o'neil", age: 18 }))).toBe(true);
    expect(matches(and, person({ name: "o'neil", age: 17 }))).toBe(false);
    expect(matches(and, person({ name: 'oneil', age: 18 }))).toBe(false);
    const or = `SELECT * FROM "person" WHERE ("person"."age" < 3) OR ("person"."age" > 60)`;
    expect([2, 3, 60, 61].map((age) => matches(or, person({ age })))).toEqual([true, false, false, true]);
  });

  it('identity literals as 0x + 64 hex digits, and subscribeToAllTables-style unquoted names', () => {
    const id = new Identity(0xabcdefn);
    const sql = `SELECT * FROM "secret_note" WHERE "secret_note"."owner" = 0x${id.toHexString()}`;
    expect(matches(sql, note(0xabcdefn), owner)).toBe(true);
    expect(matches(sql, note(0xabcdeen), owner)).toBe(false);
    const zero = `SELECT * FROM "secret_note" WHERE "secret_note"."owner" = 0x${Identity.zero().toHexString()}`;
    expect(matches(zero, note(0n), owner)).toBe(true);
    expect(only('SELECT * FROM tick_schedule').table.name).toBe('tick_schedule');
  });

  it('keeps the query text as the fragment text', () => {
    const sql = `SELECT * FROM "person" WHERE "person"."age" > 3`;
    expect(only(sql).sql).toBe(sql);
  });
});

describe('comparison operators', () => {
  const cases: [string, boolean[]][] = [
    ['age = 30', [false, true, false]],
    ['age == 30', [false, true, false]],
    ['age != 30', [true, false, true]],
    ['age <> 30', [true, false, true]],
    ['age < 30', [true, false, false]],
    ['age <= 30', [true, true, false]],
    ['age > 30', [false, false, true]],
    ['age >= 30', [false, true, true]],
  ];
  it.each(cases)('%s over ages 29, 30, 31', (where, expected) => {
    const q = only(`SELECT * FROM person WHERE ${where}`);
    expect([29, 30, 31].map((age) => q.matches(person({ age })))).toEqual(expected);
  });

  it('puts the literal on either side', () => {
    const flipped: [string, boolean[]][] = [
      ['30 = age', [false, true, false]],
      ['30 < age', [false, false, true]],
      ['30 <= age', [false, true, true]],
      ['30 > age', [true, false, false]],
      ['30 >= age', [true, true, false]],
      ['30 <> age', [true, false, true]],
    ];
    for (const [where, expected] of flipped) {
      const q = only(`SELECT * FROM person WHERE ${where}`);
      expect([29, 30, 31].map((age) => q.matches(person({ age })))).toEqual(expected);
    }
  });

  it('compares two columns of the same type', () => {
    const q = only('SELECT * FROM person WHERE age < level');
    expect(q.matches(person({ age: 1, level: 2 }))).toBe(true);
    expect(q.matches(person({ age: 2, level: 2 }))).toBe(false);
    expect(only('SELECT * FROM person WHERE name = team').matches(person({ name: 'x', team: 'x' }))).toBe(
      true,
    );
  });

  it('binds AND tighter than OR, and parentheses override it', () => {
    const row = person({ age: 1, level: 5, team: 'blue' });
    expect(matches(`SELECT * FROM person WHERE age = 1 OR level = 9 AND team = 'red'`, row)).toBe(true);
    expect(matches(`SELECT * FROM person WHERE (age = 1 OR level = 9) AND team = 'red'`, row)).toBe(false);
  });

  it('compares booleans made of comparisons, as SpacetimeDB allows', () => {
    // `(a) = FALSE` is how to say NOT in SpacetimeDB's subscription SQL.
    const q = only(`SELECT * FROM person WHERE (name = 'x') = FALSE`);
    expect(q.matches(person({ name: 'x' }))).toBe(false);
    expect(q.matches(person({ name: 'y' }))).toBe(true);
    expect(matches('SELECT * FROM person WHERE (age > 1) = (level > 1)', person({ age: 2, level: 2 }))).toBe(
      true,
    );
    expect(matches('SELECT * FROM person WHERE TRUE', person())).toBe(true);
    expect(matches('SELECT * FROM person WHERE FALSE OR age = 30', person())).toBe(true);
  });
});

describe('names', () => {
  it('resolves tables and columns by canonical name or accessor, quoted or not', () => {
    const tick = encodeRow(schema, 'tick_schedule', {
      scheduledId: 7n,
      scheduledAt: { tag: 'Interval', value: { __time_duration_micros__: 5n } },
    });
    for (const col of ['scheduled_id', 'scheduledId', '"scheduled_id"', 'tick_schedule.scheduledId'])
      expect(matches(`SELECT * FROM tick_schedule WHERE ${col} = 7`, tick)).toBe(true);
    expect(matches('SELECT * FROM tickSchedule WHERE tickSchedule.scheduled_id = 7', tick)).toBe(true);
    expect(only('SELECT * FROM secretNote', owner).table.name).toBe('secret_note');
  });

  it('reads column names that are SQL keywords elsewhere (value, text, kind) unquoted', () => {
    const counter = encodeRow(schema, 'counter', { name: 'init', value: 5n });
    expect(matches(`SELECT * FROM counter WHERE value > 3 AND name = 'init'`, counter)).toBe(true);
    const msg = encodeRow(schema, 'message', { id: 1n, text: 'hi', sender: new Identity(1n) });
    expect(matches(`SELECT * FROM message WHERE text = 'hi'`, msg)).toBe(true);
  });

  it('accepts a table alias, with or without AS, and SELECT alias.*', () => {
    const row = person({ level: 1 });
    expect(matches('SELECT p.* FROM person AS p WHERE p.level = 1', row)).toBe(true);
    expect(matches('SELECT * FROM person p WHERE p.level = 1 AND level = 1', row)).toBe(true);
    expect(matches('SELECT "p".* FROM "person" "p" WHERE "p"."level" = 1', row)).toBe(true);
    expect(matches('SELECT person.* FROM person', row)).toBe(true);
  });

  it('puts only the alias in scope once a table is aliased (names are case-sensitive)', () => {
    expect(() => compileQuery('SELECT * FROM person AS p WHERE person.age = 1', schema, anyone)).toThrow(
      /`person` is not in scope/,
    );
    expect(() => compileQuery('SELECT person.* FROM person AS p', schema, anyone)).toThrow(
      /`person` is not in scope/,
    );
    expect(() => compileQuery('SELECT * FROM Person', schema, anyone)).toThrow(/no such table: `Person`/);
  });

  it('reads keywords in any case, skips comments and a trailing semicolon', () => {
    const q = only(`select * FrOm person -- the people
      wHeRe /* nested /* comment */ */ age = 30 aNd TRUE;`);
    expect(q.matches(person({ age: 30 }))).toBe(true);
    expect(q.matches(person({ age: 31 }))).toBe(false);
    expect(only('  SELECT * FROM person ;; ').table.name).toBe('person');
  });
});

describe('readable tables', () => {
  it('hides private tables from non-owners exactly like missing ones', () => {
    const hidden = () => compileQuery('SELECT * FROM secret_note', schema, anyone);
    expect(hidden).toThrow(/no such table: `secret_note`. If the table exists, it may be marked private./);
    expect(() => compileQuery('SELECT * FROM banned', schema, anyone)).toThrow(
      expect.objectContaining({ kind: 'unresolved' }),
    );
    expect(only('SELECT * FROM secret_note', owner).table.isPublic).toBe(false);
  });

  it('expands SELECT * FROM * to every readable non-event table', () => {
    const names = (auth: SqlAuth, sql = 'SELECT * FROM *') =>
      compileQuery(sql, schema, auth).map((q) => q.table.name);
    const publicNonEvent = schema.tables.filter((t) => t.isPublic && !t.isEvent).map((t) => t.name);
    expect(names(anyone)).toEqual(publicNonEvent);
    expect(names(anyone)).not.toContain('notice');
    expect(names(owner)).toEqual(schema.tables.filter((t) => !t.isEvent).map((t) => t.name));
    expect(names(owner, '  select   *\nfrom\t*  ')).toContain('secret_note');
    const fragment = compileQuery('SELECT * FROM *', schema, anyone)[0] as CompiledQuery;
    expect(fragment.sql).toBe(`SELECT * FROM ${fragment.table.name}`);
    expect(fragment.matches(new Uint8Array())).toBe(true);
  });

  it('lets a client subscribe to an event table by name', () => {
    const q = only(`SELECT * FROM notice WHERE text = 'hi'`);
    expect(q.table.isEvent).toBe(true);
    expect(q.matches(encodeRow(schema, 'notice', { text: 'hi' }))).toBe(true);
  });
});
