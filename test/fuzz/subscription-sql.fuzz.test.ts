/**
 * Fuzz: devhost's subscription SQL (`devhost/sql/`), the text every client sends to subscribe.
 * Arbitrary text, queries from a small grammar over the test module's tables (projections, aliases,
 * joins, comparisons, AND/OR, parentheses, `:sender`, literals of every kind), those queries mutated
 * byte by byte, and deep nestings of them: each compiles or is refused with the documented
 * `SqlError` (kind parse / unsupported / unresolved / type) — never another exception, never a hang.
 * The term count the host bounds queries by (`queryTermCount`) is computed for each without throwing.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleSchema } from '../../devhost/contract.js';
import { compileQuery, queryTermCount, type SqlAuth, SqlError } from '../../devhost/sql/index.js';
import { loadSchema, TEST_MODULE } from '../../devhost/sql/testing/schema.js';
import { fuzz, fuzzTimeout, mutatedText } from './fuzz.js';

let schema: ModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(TEST_MODULE);
});

const anyone: SqlAuth = { sender: 42n, isOwner: false };
const owner: SqlAuth = { sender: 1n, isOwner: true };

const TABLES = ['person', 'counter', 'message', 'secret_note', 'banned', 'tick_schedule', 'blob', 'nope'];
const COLUMNS = ['name', 'age', 'team', 'level', 'value', 'text', 'owner', 'id', 'sender', 'data', 'x'];
const OPS = ['=', '<>', '!=', '<', '<=', '>', '>=', '+', '::', 'LIKE', 'IN', 'IS'];

const literal = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom(
    '0',
    '-1',
    '1e309',
    '18446744073709551616',
    '3.5',
    'NaN',
    'TRUE',
    'FALSE',
    'NULL',
    ':sender',
  ),
  fc.string({ maxLength: 12 }).map((s) => `'${s.replaceAll("'", "''")}'`),
  fc.uint8Array({ maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
);
const column = fc
  .tuple(
    fc.option(fc.constantFrom('p', 'person', 'c', 'counter'), { nil: undefined }),
    fc.constantFrom(...COLUMNS),
  )
  .map(([q, c]) => (q ? `${q}.${c}` : c));

const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(fc.oneof(column, literal), fc.constantFrom(...OPS), fc.oneof(column, literal))
      .map((t) => t.join(' ')),
    fc.tuple(tie('e'), fc.constantFrom('AND', 'OR'), tie('e')).map((t) => t.join(' ')),
    tie('e').map((e) => `(${e})`),
    tie('e').map((e) => `(${e}) = FALSE`),
  ),
})).e;

const query = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('*', 'p.*', 'person.*', 'name', 'p.name, age'),
      fc.constantFrom(...TABLES),
      fc.constantFrom('', ' p', ' AS p'),
      fc.option(expr),
    )
    .map(([proj, t, alias, where]) => `SELECT ${proj} FROM ${t}${alias}${where ? ` WHERE ${where}` : ''}`),
  fc
    .tuple(fc.constantFrom('c.*', 'p.*', '*', 'person.name'), fc.option(expr))
    .map(
      ([proj, where]) =>
        `SELECT ${proj} FROM counter c JOIN person p ON p.name = c.name${where ? ` WHERE ${where}` : ''}`,
    ),
);

/**
 * How deep: mostly around the parser's limits (50 levels of nesting, 1,000 operators), where a refusal
 * starts and an off-by-one would hide; one in 46 anywhere up to 10,000, the lexer on up to 120 KB.
 * (Past a limit every depth is refused the same way after lexing the whole text; uniform depths up to
 * 10,000 spent the target's time lexing ~60 KB per case: 46 cases/s.)
 */
const depth = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 1, max: 120 }) },
  { weight: 15, arbitrary: fc.integer({ min: 950, max: 1_050 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 10_000 }) },
);

/** A query whose WHERE clause nests `depth` times: parentheses, comparisons of comparisons, or a long AND chain. */
const deep = fc.tuple(fc.constantFrom('parens', 'compare', 'chain', 'minus'), depth).map(([shape, depth]) => {
  const where =
    shape === 'parens'
      ? `${'('.repeat(depth)}age = 1${')'.repeat(depth)}`
      : shape === 'compare'
        ? `${'(age = 1) = '.repeat(depth)}TRUE`
        : shape === 'minus'
          ? `age = ${'- '.repeat(depth)}1`
          : Array.from({ length: depth }, () => 'age = 1').join(' AND ');
  return `SELECT * FROM person WHERE ${where}`;
});

function typed(sql: string): void {
  expect(Number.isInteger(queryTermCount(sql))).toBe(true);
  for (const auth of [anyone, owner]) {
    try {
      const compiled = compileQuery(sql, schema, auth);
      expect(compiled.length).toBeGreaterThan(0);
    } catch (e) {
      if (!(e instanceof SqlError))
        throw new Error(`not a SqlError for ${JSON.stringify(sql.slice(0, 200))}: ${String(e)}`);
      expect(['parse', 'unsupported', 'unresolved', 'type']).toContain(e.kind);
    }
  }
}

describe('fuzz: subscription SQL', () => {
  it(
    'arbitrary text',
    async () => {
      await fuzz(
        'sql/text',
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ maxLength: 64, unit: 'binary' })),
        typed,
        { ciRuns: 500 },
      );
    },
    fuzzTimeout(),
  );

  it(
    'queries from the grammar',
    async () => {
      await fuzz('sql/grammar', query, typed, { ciRuns: 500 });
    },
    fuzzTimeout(),
  );

  it(
    'grammar queries mutated byte by byte',
    async () => {
      await fuzz('sql/mutated', mutatedText(query), typed, { ciRuns: 500 });
    },
    fuzzTimeout(),
  );

  it(
    'deep nesting and long chains',
    async () => {
      await fuzz('sql/deep', deep, typed, { ciRuns: 100 });
    },
    fuzzTimeout(),
  );
});
