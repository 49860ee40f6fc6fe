/**
 * The compiled predicate against a direct evaluation, over random rows and random AND/OR combinations
 * of comparisons. The reference orders values by their definitions — strings by their UTF-8 bytes
 * (Buffer.compare), floats with NaN on top and -0 = +0, integers as bigints — not by devhost's code.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleSchema } from '../contract.js';
import { compileQuery } from './index.js';
import { loadSchema, SQL_MODULE, sampleRow } from './testing/schema.js';

let schema: ModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(SQL_MODULE);
});

interface Row {
  smallI32: number;
  bigI128: bigint;
  realF64: number;
  label: string;
  flag: boolean;
  payload: Uint8Array;
}

const OPS = ['=', '<>', '!=', '<', '<=', '>', '>='] as const;
type Op = (typeof OPS)[number];

type Column = {
  [K in keyof Row]: { key: K; sql: string; literal: fc.Arbitrary<Row[K]>; render: (v: Row[K]) => string };
}[keyof Row];

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const floatCmp = (a: number, b: number) =>
  Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a === b ? 0 : a < b ? -1 : 1;

function referenceCompare(key: keyof Row, a: Row[keyof Row], b: Row[keyof Row]): number {
  switch (key) {
    case 'label':
      return Buffer.compare(utf8(a as string), utf8(b as string));
    case 'payload':
      return Buffer.compare(Buffer.from(a as Uint8Array), Buffer.from(b as Uint8Array));
    case 'realF64':
      return floatCmp(a as number, b as number);
    case 'flag':
      return Number(a) - Number(b);
    default: {
      const x = BigInt(a as number | bigint);
      const y = BigInt(b as number | bigint);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

const holds = (op: Op, c: number) =>
  op === '='
    ? c === 0
    : op === '<>' || op === '!='
      ? c !== 0
      : op === '<'
        ? c < 0
        : op === '<='
          ? c <= 0
          : op === '>'
            ? c > 0
            : c >= 0;

// Small domains make equal values (and so every operator's boundary) common.
const smallString = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '｡', '😀', "'", ' '), maxLength: 3 });
const anyString = fc.oneof(smallString, fc.string({ unit: 'binary', maxLength: 4 }));
const finite = fc.oneof(
  fc.constantFrom(-1, 0, 1, 1.5, -0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const COLUMNS: Column[] = [
  {
    key: 'smallI32',
    sql: 'small_i_32',
    literal: fc.oneof(fc.integer({ min: -2, max: 2 }), fc.integer()),
    render: String,
  },
  {
    key: 'bigI128',
    sql: 'bigI128',
    literal: fc.oneof(
      fc.bigInt({ min: -2n, max: 2n }),
      fc.bigInt({ min: -(2n ** 127n), max: 2n ** 127n - 1n }),
    ),
    render: String,
  },
  {
    key: 'realF64',
    sql: '"real_f_64"',
    literal: finite,
    render: (v) => (Object.is(v, -0) ? '-0.0' : String(v)),
  },
  { key: 'label', sql: 'sample.label', literal: anyString, render: (v) => `'${v.replace(/'/g, "''")}'` },
  { key: 'flag', sql: 'flag', literal: fc.boolean(), render: (v) => (v ? 'TRUE' : 'FALSE') },
  {
    key: 'payload',
    sql: 'payload',
    literal: fc.uint8Array({ maxLength: 3, max: 2 }),
    render: (v) => `0x${Buffer.from(v).toString('hex')}`,
  },
];

const rowArb: fc.Arbitrary<Row> = fc.record({
  smallI32: COLUMNS[0]?.literal as fc.Arbitrary<number>,
  bigI128: COLUMNS[1]?.literal as fc.Arbitrary<bigint>,
  realF64: fc.oneof(finite, fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)),
  label: anyString,
  flag: fc.boolean(),
  payload: fc.uint8Array({ maxLength: 3, max: 2 }),
});

interface Comparison {
  /** Which column (by row key), so counterexamples print readably. */
  column: keyof Row;
  op: Op;
  value: Row[keyof Row];
  /** Literal on the left: `5 < col` means col > 5. */
  flipped: boolean;
}

const comparisonArb: fc.Arbitrary<Comparison> = fc.constantFrom(...COLUMNS).chain((column) =>
  fc.record({
    column: fc.constant(column.key),
    op: fc.constantFrom(...OPS),
    value: column.literal as fc.Arbitrary<Row[keyof Row]>,
    flipped: fc.boolean(),
  }),
);

const columnOf = (key: keyof Row) => COLUMNS.find((c) => c.key === key) as Column;

function renderComparison(c: Comparison): string {
  const column = columnOf(c.column);
  const lit = (column.render as (v: Row[keyof Row]) => string)(c.value);
  return c.flipped ? `${lit} ${c.op} ${column.sql}` : `${column.sql} ${c.op} ${lit}`;
}

function evaluateComparison(c: Comparison, row: Row): boolean {
  const cell = row[c.column];
  const cmp = c.flipped
    ? referenceCompare(c.column, c.value, cell)
    : referenceCompare(c.column, cell, c.value);
  return holds(c.op, cmp);
}

type Tree = { leaf: Comparison } | { op: 'AND' | 'OR'; left: Tree; right: Tree };

const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ leaf: comparisonArb }),
    fc.record({ op: fc.constantFrom('AND' as const, 'OR' as const), left: tie('tree'), right: tie('tree') }),
  ),
})).tree;

const renderTree = (t: Tree): string =>
  'leaf' in t ? renderComparison(t.leaf) : `(${renderTree(t.left)}) ${t.op} (${renderTree(t.right)})`;
const evaluateTree = (t: Tree, row: Row): boolean =>
  'leaf' in t
    ? evaluateComparison(t.leaf, row)
    : t.op === 'AND'
      ? evaluateTree(t.left, row) && evaluateTree(t.right, row)
      : evaluateTree(t.left, row) || evaluateTree(t.right, row);

function encode(row: Row): Uint8Array {
  return sampleRow(schema, {
    flag: row.flag,
    smallI32: row.smallI32,
    bigI128: row.bigI128,
    realF64: row.realF64,
    label: row.label,
    payload: row.payload,
  });
}

function matches(sql: string, row: Row): boolean {
  const [q] = compileQuery(sql, schema, { sender: 0n, isOwner: false });
  if (!q) throw new Error('no fragment');
  return q.matches(encode(row));
}

describe('compiled predicates agree with a direct evaluation', () => {
  it('for single comparisons of every comparable kind, literal on either side', () => {
    fc.assert(
      fc.property(comparisonArb, rowArb, (c, row) => {
        expect(matches(`SELECT * FROM sample WHERE ${renderComparison(c)}`, row)).toBe(
          evaluateComparison(c, row),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('for nested, parenthesised AND/OR trees', () => {
    fc.assert(
      fc.property(treeArb, rowArb, (tree, row) => {
        expect(matches(`SELECT * FROM sample WHERE ${renderTree(tree)}`, row)).toBe(evaluateTree(tree, row));
      }),
      { numRuns: 500 },
    );
  });

  it('for unparenthesised chains, where AND binds tighter than OR', () => {
    const chain = fc.record({
      first: comparisonArb,
      rest: fc.array(fc.tuple(fc.constantFrom('AND' as const, 'OR' as const), comparisonArb), {
        maxLength: 5,
      }),
    });
    fc.assert(
      fc.property(chain, rowArb, ({ first, rest }, row) => {
        const sql = [renderComparison(first), ...rest.map(([op, c]) => `${op} ${renderComparison(c)}`)].join(
          ' ',
        );
        // Split into OR-separated groups of AND-ed comparisons.
        const groups: Comparison[][] = [[first]];
        for (const [op, c] of rest) {
          if (op === 'OR') groups.push([c]);
          else groups[groups.length - 1]?.push(c);
        }
        const expected = groups.some((g) => g.every((c) => evaluateComparison(c, row)));
        expect(matches(`SELECT * FROM sample WHERE ${sql}`, row)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
