import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleSchema } from '../contract.js';
import { compileQuery, type SqlAuth, SqlError, type SqlErrorKind } from './index.js';
import { loadSchema, TEST_MODULE } from './testing/schema.js';

let schema: ModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(TEST_MODULE);
});

const anyone: SqlAuth = { sender: 42n, isOwner: false };

function refusal(sql: string): SqlError {
  try {
    compileQuery(sql, schema, anyone);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`accepted: ${sql}`);
}

type Case = [sql: string, kind: SqlErrorKind, message: RegExp];

function check(cases: Case[]) {
  for (const [sql, kind, message] of cases) {
    const e = refusal(sql);
    expect({ sql, kind: e.kind, message: e.message }).toEqual({
      sql,
      kind,
      message: expect.stringMatching(message),
    });
  }
}

describe('refused as unsupported, never answered approximately', () => {
  it('joins other than one inner equi-join of two tables, with the reason', () => {
    check([
      ['SELECT person.* FROM person CROSS JOIN counter', 'unsupported', /CROSS joins are not supported/],
      [
        'SELECT person.* FROM person LEFT JOIN counter ON person.name = counter.name',
        'unsupported',
        /Non-inner joins/,
      ],
      ['SELECT * FROM person, counter', 'unsupported', /Implicit joins are not supported/],
      ['SELECT person.* FROM counter JOIN person', 'unsupported', /joins need ON/],
      [
        'SELECT person.* FROM counter JOIN person ON counter.name <> person.name',
        'unsupported',
        /Unsupported join condition/,
      ],
      [
        'SELECT person.* FROM counter JOIN person ON counter.name = person.name JOIN message ON message.text = person.name',
        'unsupported',
        /Invalid number of tables in subscription/,
      ],
    ]);
  });

  it('NOT, NULL, IS, IN, LIKE, BETWEEN', () => {
    check([
      [`SELECT * FROM "person" WHERE NOT ("person"."name" = 'x')`, 'unsupported', /NOT is not supported/],
      ['SELECT * FROM person WHERE name IS NULL', 'unsupported', /IS \[NOT\] NULL/],
      ['SELECT * FROM person WHERE name IS NOT NULL', 'unsupported', /IS \[NOT\] NULL/],
      ['SELECT * FROM person WHERE name = NULL', 'unsupported', /Unsupported literal expression: NULL/],
      [`SELECT * FROM person WHERE name IN ('a', 'b')`, 'unsupported', /IN lists are not supported/],
      [`SELECT * FROM person WHERE name NOT IN ('a')`, 'unsupported', /NOT IN/],
      ['SELECT * FROM person WHERE age IN (SELECT age FROM person)', 'unsupported', /IN/],
      [`SELECT * FROM person WHERE name LIKE 'a%'`, 'unsupported', /LIKE is not supported/],
      [`SELECT * FROM person WHERE name NOT LIKE 'a%'`, 'unsupported', /NOT LIKE/],
      [`SELECT * FROM person WHERE name ILIKE 'a%'`, 'unsupported', /ILIKE/],
      ['SELECT * FROM person WHERE age BETWEEN 1 AND 3', 'unsupported', /BETWEEN is not supported/],
    ]);
  });

  it('functions, arithmetic, casts, subqueries and other expressions', () => {
    check([
      [
        `SELECT * FROM person WHERE lower(name) = 'x'`,
        'unsupported',
        /lower\(…\) \(functions are not supported\)/,
      ],
      ['SELECT * FROM person WHERE name = upper(name)', 'unsupported', /functions are not supported/],
      ['SELECT * FROM person WHERE age + 1 = 2', 'unsupported', /Unsupported binary operator: \+/],
      ['SELECT * FROM person WHERE age = 1 * 2', 'unsupported', /Unsupported binary operator: \*/],
      [`SELECT * FROM person WHERE name || 'x' = 'ax'`, 'unsupported', /Unsupported binary operator: \|\|/],
      [`SELECT * FROM person WHERE age::text = '1'`, 'unsupported', /casts/],
      ['SELECT * FROM person WHERE -age = 1', 'unsupported', /Unsupported expression: -age/],
      ['SELECT * FROM person WHERE age = -(1)', 'unsupported', /Unsupported expression: -\(1\)/],
      ['SELECT * FROM person WHERE age = (SELECT 1)', 'unsupported', /subqueries/],
      [`SELECT * FROM person WHERE CASE WHEN age > 1 THEN TRUE ELSE FALSE END`, 'unsupported', /CASE/],
      [`SELECT * FROM person WHERE name = DATE '2020-01-01'`, 'unsupported', /typed literal/],
      ['SELECT * FROM person WHERE age = :age', 'unsupported', /only parameter is :sender/],
      ['SELECT * FROM person WHERE age = $1', 'unsupported', /Unsupported literal expression: \$1/],
      [`SELECT * FROM person WHERE name = N'x'`, 'unsupported', /Unsupported literal expression/],
      [`SELECT * FROM person WHERE name = E'x'`, 'unsupported', /Unsupported literal expression/],
      ['SELECT * FROM person WHERE (age, level) = (1, 2)', 'unsupported', /tuples/],
    ]);
  });

  it('projections, aggregates, DISTINCT and clauses a subscription cannot have', () => {
    const projection = /Column projections are not supported in subscriptions/;
    check([
      ['SELECT name FROM person', 'unsupported', projection],
      ['SELECT name, age FROM person', 'unsupported', projection],
      ['SELECT p.name AS n FROM person p', 'unsupported', projection],
      ['SELECT COUNT(*) AS n FROM person', 'unsupported', projection],
      ['SELECT COUNT(*) FROM person', 'unsupported', /Aggregate expressions must have column aliases/],
      ['SELECT max(age) AS m FROM person', 'unsupported', /Unsupported aggregate function: max\(age\)/],
      ['SELECT *, name FROM person', 'unsupported', /Mixed wildcard projections/],
      ['SELECT age + 1 FROM person', 'unsupported', /Unsupported binary operator/],
      ['SELECT DISTINCT * FROM person', 'unsupported', /DISTINCT is not supported/],
      ['SELECT * FROM person LIMIT 5', 'unsupported', /LIMIT is not supported/],
      ['SELECT * FROM person ORDER BY age', 'unsupported', /ORDER BY is not supported/],
      ['SELECT * FROM person OFFSET 1', 'unsupported', /OFFSET is not supported/],
      ['SELECT * FROM person GROUP BY team', 'unsupported', /GROUP BY is not supported/],
      ['SELECT * FROM person WHERE age > 1 HAVING age > 2', 'unsupported', /HAVING is not supported/],
      ['SELECT * FROM person UNION SELECT * FROM person', 'unsupported', /UNION/],
      ['WITH p AS (SELECT * FROM person) SELECT * FROM p', 'unsupported', /WITH is not supported/],
      ['SELECT * FROM (SELECT * FROM person)', 'unsupported', /Unsupported FROM expression/],
      ['(SELECT * FROM person)', 'unsupported', /Unsupported set operation/],
    ]);
  });

  it('several statements, and anything but a query', () => {
    check([
      [
        `SELECT * FROM person WHERE name = 'x'; SELECT * FROM counter`,
        'unsupported',
        /Multiple SQL statements/,
      ],
      ['DELETE FROM person', 'unsupported', /Non-SELECT queries/],
      [`INSERT INTO person VALUES (1, 'a', 2, 'b', 3)`, 'unsupported', /Non-SELECT queries/],
      ['UPDATE person SET age = 1', 'unsupported', /Non-SELECT queries/],
      ['DROP TABLE person', 'unsupported', /Non-SELECT queries/],
      [';', 'unsupported', /Empty SQL query/],
    ]);
  });
});

describe('syntax errors', () => {
  it('are parse errors naming what was expected', () => {
    check([
      ['', 'parse', /^Empty string$/],
      [' \n\t ', 'parse', /^Empty string$/],
      ['SELEC * FROM person', 'parse', /Expected an SQL statement, found: SELEC/],
      ['SELECT * FROM', 'parse', /Expected identifier, found: EOF/],
      ['SELECT *', 'parse', /A FROM clause is required/],
      ['SELECT * FROM person WHERE', 'parse', /Expected an expression:, found: EOF/],
      ['SELECT * FROM person WHERE age =', 'parse', /Expected an expression:/],
      ['SELECT * FROM person WHERE (age = 1', 'parse', /Expected \), found: EOF/],
      [`SELECT * FROM person WHERE name = 'open`, 'parse', /Unterminated string literal/],
      ['SELECT * FROM "person', 'parse', /close delimiter/],
      ['SELECT * FROM person p q', 'parse', /Expected end of statement, found: q/],
      ['SELECT * FROM person WHERE age = 1 level', 'parse', /Expected end of statement, found: level/],
      ['SELECT * FROM *;', 'parse', /Expected identifier, found: \*/],
      ['SELECT * FROM person WHERE age = 1 /* open', 'parse', /multi-line comment/],
      ['SELECT * FROM person WHERE age ? 1', 'parse', /Unexpected character '\?'/],
    ]);
  });
});

describe('names that do not resolve', () => {
  it('are unresolved errors worded as SpacetimeDB words them', () => {
    check([
      [
        'SELECT * FROM nowhere',
        'unresolved',
        /^no such table: `nowhere`. If the table exists, it may be marked private.$/,
      ],
      ['SELECT * FROM person WHERE nope = 1', 'unresolved', /^`nope` is not in scope$/],
      ['SELECT * FROM person WHERE other.age = 1', 'unresolved', /^`other` is not in scope$/],
      ['SELECT x.* FROM person', 'unresolved', /^`x` is not in scope$/],
      ['SELECT nope FROM person', 'unresolved', /^`nope` is not in scope$/],
      ['SELECT * FROM ns.person', 'unresolved', /no such table: `ns.person`/],
      // The table is resolved before the WHERE clause is looked at.
      ['SELECT * FROM nowhere WHERE 1 = 1', 'unresolved', /no such table/],
    ]);
  });
});

describe('type errors', () => {
  it('reject literals that are not values of the column type', () => {
    check([
      [`SELECT * FROM person WHERE age = 'thirty'`, 'type', /`thirty` cannot be parsed as type `U32`/],
      ['SELECT * FROM person WHERE age = 4294967296', 'type', /out of bounds for type U32/],
      ['SELECT * FROM person WHERE age = -1', 'type', /`-1` cannot be parsed as type `U32`/],
      ['SELECT * FROM person WHERE age = 1.5', 'type', /not an integer/],
      ['SELECT * FROM person WHERE name = TRUE', 'type', /\(expected\) Bool != String \(inferred\)/],
      [
        'SELECT * FROM tick_schedule WHERE scheduled_at = scheduled_at',
        'type',
        /Invalid binary operator `=`/,
      ],
      ['SELECT * FROM connection_log WHERE connection_id = connection_id', 'type', /Invalid binary operator/],
    ]);
  });

  it('are SqlError instances carrying their kind', () => {
    const e = refusal('SELECT * FROM person WHERE age = TRUE');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SqlError');
    expect(e.kind).toBe('type');
  });
});

describe('bounded nesting (found by test/fuzz/subscription-sql.fuzz.test.ts)', () => {
  const where = (w: string) => `SELECT * FROM person WHERE ${w}`;
  it('deeper than 50 levels is a parse error, as in SpacetimeDB, not a crashed stack', () => {
    expect(compileQuery(where(`${'('.repeat(45)}age = 1${')'.repeat(45)}`), schema, anyone)).toHaveLength(1);
    check([
      [where(`${'('.repeat(20_000)}age = 1${')'.repeat(20_000)}`), 'parse', /recursion limit exceeded/],
      [where(`age = ${'- '.repeat(20_000)}1`), 'parse', /recursion limit exceeded/],
    ]);
  });

  it('more than 1000 operators in one query is refused, however they are chained', () => {
    const chain = (n: number) => Array.from({ length: n }, () => 'age = 1').join(' AND ');
    expect(compileQuery(where(chain(400)), schema, anyone)).toHaveLength(1);
    check([
      [where(chain(20_000)), 'unsupported', /more than 1000 operators/],
      [where(`${'(age = 1) = '.repeat(20_000)}TRUE`), 'unsupported', /more than 1000 operators/],
    ]);
  });
});
