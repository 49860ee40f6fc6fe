import fc from 'fast-check';
import { AlgebraicType, BinaryWriter } from 'spacetimedb';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeModule } from '../codegen/index.js';
import type { TableSchema } from '../contract.js';
import { buildModuleSchema, decodeModuleDef, type HostModuleSchema } from '../schema/index.js';
import { compileQuery, compileVisibility, SqlError } from './index.js';

const MODULE = new URL('../testdata/test-module/index.ts', import.meta.url).pathname;
let schema: HostModuleSchema;
beforeAll(async () => {
  schema = buildModuleSchema(decodeModuleDef(await describeModule(MODULE)));
}, 60_000);

const anyone = { sender: 42n, isOwner: false };
const owner = { sender: 1n, isOwner: true };

type Person = { id: bigint; name: string; age: number; team: string; level: number };

function row(table: string, value: object): Uint8Array {
  const t = schema.tableByName(table) as TableSchema;
  const w = new BinaryWriter(64);
  AlgebraicType.makeSerializer(t.rowType, schema.typespace as never)(w, value);
  return w.getBuffer();
}
const person = (p: Partial<Person>) =>
  row('person', { id: 1n, name: 'ann', age: 30, team: 'red', level: 1, ...p });

function matches(sql: string, bytes: Uint8Array, auth = anyone): boolean {
  const [q] = compileQuery(sql, schema, auth);
  if (!q) throw new Error('no fragment');
  return q.matches(bytes);
}

function refused(sql: string, auth = anyone): SqlError {
  try {
    compileQuery(sql, schema, auth);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`accepted: ${sql}`);
}

describe('subscription SQL', () => {
  it('accepts exactly what the TypeScript SDK emits', () => {
    expect(matches('SELECT * FROM "person"', person({}))).toBe(true);
    expect(matches(`SELECT * FROM "person" WHERE "person"."name" = 'x'`, person({ name: 'x' }))).toBe(true);
    const sql = `SELECT * FROM "person" WHERE ("person"."name" = 'o''neil') AND ("person"."age" >= 18)`;
    expect(matches(sql, person({ name: "o'neil", age: 18 }))).toBe(true);
    expect(matches(sql, person({ name: "o'neil", age: 17 }))).toBe(false);
    const or = `SELECT * FROM "person" WHERE ("person"."age" < 3) OR ("person"."age" > 60)`;
    expect([2, 30, 61].map((age) => matches(or, person({ age })))).toEqual([true, false, true]);
  });

  it('evaluates every comparison operator on integers, with literals on either side', () => {
    const cases: [string, boolean[]][] = [
      ['age = 30', [false, true, false]],
      ['age != 30', [true, false, true]],
      ['age <> 30', [true, false, true]],
      ['age < 30', [true, false, false]],
      ['age <= 30', [true, true, false]],
      ['age > 30', [false, false, true]],
      ['age >= 30', [false, true, true]],
      ['30 > age', [true, false, false]],
    ];
    for (const [where, expected] of cases) {
      expect(
        [29, 30, 31].map((age) => matches(`SELECT * FROM person WHERE ${where}`, person({ age }))),
      ).toEqual(expected);
    }
  });

  it('resolves tables and columns by canonical name or accessor alias, and table aliases', () => {
    expect(
      matches(
        'SELECT * FROM secret_note WHERE owner = :sender',
        row('secret_note', { id: 1n, owner: { __identity__: 1n }, text: 'x' }),
        owner,
      ),
    ).toBe(true);
    expect(
      matches(
        'SELECT * FROM secretNote',
        row('secret_note', { id: 1n, owner: { __identity__: 1n }, text: 'x' }),
        owner,
      ),
    ).toBe(true);
    expect(matches('SELECT p.* FROM person AS p WHERE p.level = 1', person({}))).toBe(true);
    const tick = row('tick_schedule', {
      scheduledId: 7n,
      scheduledAt: { tag: 'Interval', value: { __time_duration_micros__: 5n } },
    });
    expect(matches('SELECT * FROM tick_schedule WHERE scheduledId = 7', tick)).toBe(true);
    expect(matches('SELECT * FROM tick_schedule WHERE "scheduled_id" = 7', tick)).toBe(true);
    // Option columns have no order devhost could mirror exactly: refused, not guessed.
    expect(refused('SELECT * FROM connection_log WHERE connection_id = connectionId').kind).toBe('type');
  });

  it('compares strings by UTF-8 bytes, not UTF-16 units', () => {
    // U+FF61 sorts before U+1F600 by code point, though its UTF-16 unit 0xFF61 is above 0xD83D.
    expect(matches(`SELECT * FROM person WHERE name < '😀'`, person({ name: '｡' }))).toBe(true);
    expect(matches(`SELECT * FROM person WHERE name > 'ab'`, person({ name: 'abc' }))).toBe(true);
  });

  it('types identity literals from hex and :sender, and u64 literals from large numbers', () => {
    const note = (id: bigint) => row('secret_note', { id: 1n, owner: { __identity__: id }, text: 'x' });
    const hex = `0x${0xabcn.toString(16).padStart(64, '0')}`;
    expect(matches(`SELECT * FROM secret_note WHERE owner = ${hex}`, note(0xabcn), owner)).toBe(true);
    expect(
      matches(`SELECT * FROM secret_note WHERE owner = X'${'0'.repeat(61)}abc'`, note(0xabcn), owner),
    ).toBe(true);
    expect(
      matches('SELECT * FROM secret_note WHERE owner = :sender', note(42n), { sender: 42n, isOwner: true }),
    ).toBe(true);
    expect(
      matches('SELECT * FROM person WHERE id = 18446744073709551615', person({ id: 2n ** 64n - 1n })),
    ).toBe(true);
    expect(matches('SELECT * FROM person WHERE id = 1e3', person({ id: 1000n }))).toBe(true);
  });

  it('keeps private tables invisible to non-owners and expands SELECT * FROM * to readable tables', () => {
    expect(refused('SELECT * FROM secret_note').kind).toBe('unresolved');
    const all = compileQuery('SELECT * FROM *', schema, anyone).map((q) => q.table.name);
    expect(all).toContain('person');
    expect(all).not.toContain('secret_note');
    expect(all).not.toContain('notice'); // event tables are excluded
    expect(compileQuery('select * from *', schema, owner).map((q) => q.table.name)).toContain('secret_note');
  });

  it('refuses what it cannot evaluate exactly, with a reason', () => {
    const cases: [string, string, RegExp][] = [
      ['SELECT * FROM person JOIN counter ON person.name = counter.name', 'unsupported', /join/i],
      ['SELECT * FROM person, counter', 'unsupported', /join/i],
      ["SELECT * FROM person WHERE NOT (name = 'x')", 'unsupported', /NOT/],
      ['SELECT * FROM person WHERE name IS NULL', 'unsupported', /NULL/],
      ["SELECT * FROM person WHERE name IN ('a')", 'unsupported', /IN/],
      ["SELECT * FROM person WHERE name LIKE 'a%'", 'unsupported', /LIKE/],
      ['SELECT * FROM person LIMIT 1', 'unsupported', /LIMIT/],
      ['SELECT * FROM person ORDER BY age', 'unsupported', /ORDER/],
      ['SELECT name FROM person', 'unsupported', /projection/],
      ['DELETE FROM person', 'unsupported', /DELETE/],
      ['SELECT * FROM nowhere', 'unresolved', /nowhere/],
      ['SELECT * FROM person WHERE nope = 1', 'unresolved', /nope/],
      ["SELECT * FROM person WHERE age = 'thirty'", 'type', /u32/],
      ['SELECT * FROM person WHERE age = 1.5', 'type', /integer/],
      ['SELECT * FROM person WHERE age = 4294967296', 'type', /range/],
      ['SELECT * FROM person WHERE age = -1', 'type', /range/],
      ['SELECT * FROM person WHERE name = lower(name)', 'unsupported', /function/],
      ["SELECT * FROM person WHERE name = 'x'; SELECT * FROM person", 'parse', /end of query/],
    ];
    for (const [sql, kind, message] of cases) {
      const e = refused(sql);
      expect({ sql, kind: e.kind }).toEqual({ sql, kind });
      expect(e.message).toMatch(message);
    }
  });

  it('agrees with a direct evaluation for random AND/OR combinations', () => {
    const cmp = fc.record({
      col: fc.constantFrom('age', 'level'),
      op: fc.constantFrom('=', '!=', '<', '<=', '>', '>='),
      v: fc.integer({ min: 0, max: 5 }),
    });
    const expr = fc.array(fc.array(cmp, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 });
    const ops: Record<string, (a: number, b: number) => boolean> = {
      '=': (a, b) => a === b,
      '!=': (a, b) => a !== b,
      '<': (a, b) => a < b,
      '<=': (a, b) => a <= b,
      '>': (a, b) => a > b,
      '>=': (a, b) => a >= b,
    };
    fc.assert(
      fc.property(expr, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), (dnf, age, level) => {
        const sql = `SELECT * FROM person WHERE ${dnf.map((and) => `(${and.map((c) => `${c.col} ${c.op} ${c.v}`).join(' AND ')})`).join(' OR ')}`;
        const values: Record<string, number> = { age, level };
        const expected = dnf.some((and) => and.every((c) => ops[c.op]?.(values[c.col] as number, c.v)));
        expect(matches(sql, person({ age, level }))).toBe(expected);
      }),
    );
  });

  it('lets everyone see every row when the module declares no row-level security', () => {
    const visible = compileVisibility(schema, anyone);
    expect(visible((schema.tableByName('person') as TableSchema).tableId, person({}))).toBe(true);
  });
});
