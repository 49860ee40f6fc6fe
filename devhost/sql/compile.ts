/**
 * Parses and type-checks one subscription / one-off query (host spec §4.1–4.3) into a row predicate
 * over BSATN rows of a single table. The grammar is SpacetimeDB's subscription subset minus joins,
 * which devhost refuses explicitly rather than evaluating differently.
 */
import { AlgebraicType, BinaryReader } from 'spacetimedb';
import type { ColumnSchema, ModuleSchema, TableSchema } from '../contract.js';
import { type Token, tokenize } from './lexer.js';
import { SqlError } from './sql-error.js';
import {
  type ColumnKind,
  columnKind,
  compareValues,
  type Literal,
  normalize,
  typeLiteral,
  type Value,
} from './values.js';

export interface SqlAuth {
  /** Caller identity (u256): what `:sender` means. */
  readonly sender: bigint;
  /** The database owner reads private tables and bypasses row-level security. */
  readonly isOwner: boolean;
}

export interface CompiledQuery {
  readonly sql: string;
  readonly table: TableSchema;
  matches(row: Uint8Array): boolean;
}

type RowValues = Record<string, unknown>;
type Pred = (row: RowValues) => boolean;

const UNSUPPORTED_KEYWORDS: Record<string, string> = {
  JOIN: 'joins are not supported by devhost subscriptions',
  INNER: 'joins are not supported by devhost subscriptions',
  LEFT: 'outer joins are not supported',
  NOT: 'NOT is not supported in subscription queries',
  IS: 'IS [NOT] NULL is not supported',
  NULL: 'NULL is not supported',
  IN: 'IN is not supported',
  LIKE: 'LIKE is not supported',
  BETWEEN: 'BETWEEN is not supported',
  LIMIT: 'LIMIT is not supported in subscription queries',
  OFFSET: 'OFFSET is not supported in subscription queries',
  ORDER: 'ORDER BY is not supported in subscription queries',
  GROUP: 'GROUP BY is not supported in subscription queries',
  HAVING: 'HAVING is not supported in subscription queries',
  DISTINCT: 'DISTINCT is not supported in subscription queries',
  UNION: 'UNION is not supported',
  COUNT: 'aggregates are not supported in subscription queries',
};
const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'SET']);
const KEYWORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'AS',
  'TRUE',
  'FALSE',
  'ON',
  ...Object.keys(UNSUPPORTED_KEYWORDS),
  ...DML,
]);

const decoders = new WeakMap<TableSchema, (bytes: Uint8Array) => RowValues>();
function decoder(table: TableSchema, schema: ModuleSchema): (bytes: Uint8Array) => RowValues {
  let d = decoders.get(table);
  if (!d) {
    const de = AlgebraicType.makeDeserializer(table.rowType, schema.typespace as never);
    d = (bytes) => de(new BinaryReader(bytes)) as RowValues;
    decoders.set(table, d);
  }
  return d;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.i] as Token;
  }
  peekAt(k: number): Token {
    return (this.tokens[this.i + k] ?? this.tokens[this.tokens.length - 1]) as Token;
  }
  next(): Token {
    return this.tokens[this.i++] as Token;
  }
  isKeyword(kw: string, t: Token = this.peek()): boolean {
    return t.kind === 'ident' && !t.quoted && t.value.toUpperCase() === kw;
  }
  isOp(op: string, t: Token = this.peek()): boolean {
    return t.kind === 'op' && t.value === op;
  }
  expectKeyword(kw: string): void {
    const t = this.next();
    if (!this.isKeyword(kw, t)) throw this.unexpected(t, kw);
  }
  unexpected(t: Token, wanted?: string): SqlError {
    if (t.kind === 'ident' && !t.quoted) {
      const up = t.value.toUpperCase();
      const why = UNSUPPORTED_KEYWORDS[up];
      if (why) return new SqlError('unsupported', why);
      if (DML.has(up))
        return new SqlError('unsupported', `${up} statements are not allowed in subscriptions`);
    }
    const what = t.kind === 'eof' ? 'end of input' : `'${t.value}'`;
    return new SqlError(
      'parse',
      `SQL parse error: expected ${wanted ?? 'more input'}, found ${what} at position ${t.at}`,
    );
  }
  /** An identifier that is not a reserved keyword (quoted identifiers never are). */
  identifier(what: string): string {
    const t = this.next();
    if (t.kind !== 'ident' || (!t.quoted && KEYWORDS.has(t.value.toUpperCase())))
      throw this.unexpected(t, what);
    return t.value;
  }
}

interface Scope {
  readonly table: TableSchema;
  readonly names: ReadonlySet<string>;
}

type Operand =
  | { readonly kind: 'column'; readonly column: ColumnSchema; readonly colKind: ColumnKind | undefined }
  | { readonly kind: 'literal'; readonly literal: Literal };

const COMPARISONS = new Set(['=', '!=', '<>', '<', '<=', '>', '>=']);

function column(scope: Scope, qualifier: string | undefined, name: string, schema: ModuleSchema): Operand {
  if (qualifier !== undefined && !scope.names.has(qualifier))
    throw new SqlError('unresolved', `no such table: \`${qualifier}\``);
  const col =
    scope.table.columns.find((c) => c.name === name) ??
    scope.table.columns.find((c) => c.sourceName === name);
  if (!col) throw new SqlError('unresolved', `\`${scope.table.name}\` has no column \`${name}\``);
  return { kind: 'column', column: col, colKind: columnKind(col.type, schema.typespace) };
}

function operand(p: Parser, scope: Scope, schema: ModuleSchema): Operand {
  const t = p.next();
  if (t.kind === 'ident') {
    if (!t.quoted) {
      const up = t.value.toUpperCase();
      if (up === 'TRUE' || up === 'FALSE')
        return { kind: 'literal', literal: { kind: 'bool', value: up === 'TRUE' } };
      if (KEYWORDS.has(up)) throw p.unexpected(t, 'a column or literal');
    }
    if (p.isOp('.')) {
      p.next();
      const name = p.identifier('a column name');
      return column(scope, t.value, name, schema);
    }
    if (p.isOp('(')) throw new SqlError('unsupported', `function calls are not supported (${t.value})`);
    return column(scope, undefined, t.value, schema);
  }
  if (t.kind === 'string') return { kind: 'literal', literal: { kind: 'string', text: t.value } };
  if (t.kind === 'number') return { kind: 'literal', literal: { kind: 'number', text: t.value } };
  if (t.kind === 'hex') return { kind: 'literal', literal: { kind: 'hex', text: t.value } };
  if (t.kind === 'param') {
    if (t.value.toLowerCase() !== 'sender')
      throw new SqlError('unsupported', `unknown parameter :${t.value}`);
    return { kind: 'literal', literal: { kind: 'sender' } };
  }
  if (t.kind === 'op' && (t.value === '-' || t.value === '+')) {
    const n = p.next();
    if (n.kind !== 'number') throw p.unexpected(n, 'a number');
    return { kind: 'literal', literal: { kind: 'number', text: t.value === '-' ? `-${n.value}` : n.value } };
  }
  throw p.unexpected(t, 'a column or literal');
}

function comparator(op: string): (c: number) => boolean {
  switch (op) {
    case '=':
      return (c) => c === 0;
    case '!=':
    case '<>':
      return (c) => c !== 0;
    case '<':
      return (c) => c < 0;
    case '<=':
      return (c) => c <= 0;
    case '>':
      return (c) => c > 0;
    default:
      return (c) => c >= 0;
  }
}

function notComparable(col: ColumnSchema): SqlError {
  return new SqlError('type', `column \`${col.name}\` has a type that cannot be compared`);
}

function comparison(left: Operand, op: string, right: Operand, auth: SqlAuth): Pred {
  const test = comparator(op);
  if (left.kind === 'literal' && right.kind === 'literal') {
    if (left.literal.kind === 'bool' && right.literal.kind === 'bool') {
      const result = test(compareValues('bool', left.literal.value, right.literal.value));
      return () => result;
    }
    throw new SqlError('type', 'comparisons between two literals are only supported for booleans');
  }
  if (left.kind === 'column' && right.kind === 'column') {
    const a = left.colKind;
    const b = right.colKind;
    if (!a) throw notComparable(left.column);
    if (!b) throw notComparable(right.column);
    if (a.typeName !== b.typeName)
      throw new SqlError('type', `Unexpected type: (expected) ${a.typeName} != ${b.typeName} (inferred)`);
    const x = left.column.sourceName;
    const y = right.column.sourceName;
    return (row) => test(compareValues(a.kind, normalize(a.kind, row[x]), normalize(a.kind, row[y])));
  }
  const [col, lit, flipped] = left.kind === 'column' ? [left, right, false] : [right as Operand, left, true];
  if (col.kind !== 'column' || lit.kind !== 'literal')
    throw new SqlError('parse', 'internal: bad comparison');
  const kind = col.colKind;
  if (!kind) throw notComparable(col.column);
  const value: Value = typeLiteral(kind, lit.literal, auth.sender);
  const name = col.column.sourceName;
  return flipped
    ? (row) => test(compareValues(kind.kind, value, normalize(kind.kind, row[name])))
    : (row) => test(compareValues(kind.kind, normalize(kind.kind, row[name]), value));
}

function primary(p: Parser, scope: Scope, schema: ModuleSchema, auth: SqlAuth): Pred {
  if (p.isKeyword('NOT')) throw p.unexpected(p.peek());
  if (p.isOp('(')) {
    p.next();
    const inner = disjunction(p, scope, schema, auth);
    const close = p.next();
    if (!p.isOp(')', close)) throw p.unexpected(close, "')'");
    return inner;
  }
  const left = operand(p, scope, schema);
  const t = p.peek();
  if (t.kind === 'op' && COMPARISONS.has(t.value)) {
    p.next();
    const right = operand(p, scope, schema);
    return comparison(left, t.value, right, auth);
  }
  if (t.kind === 'ident' && !t.quoted && UNSUPPORTED_KEYWORDS[t.value.toUpperCase()]) throw p.unexpected(t);
  // A lone boolean column or literal is a predicate of its own.
  if (left.kind === 'literal' && left.literal.kind === 'bool') {
    const v = left.literal.value;
    return () => v;
  }
  if (left.kind === 'column' && left.colKind?.kind === 'bool') {
    const name = left.column.sourceName;
    return (row) => row[name] === true;
  }
  throw new SqlError('type', 'a WHERE condition must be a comparison or a boolean');
}

function conjunction(p: Parser, scope: Scope, schema: ModuleSchema, auth: SqlAuth): Pred {
  const parts = [primary(p, scope, schema, auth)];
  while (p.isKeyword('AND')) {
    p.next();
    parts.push(primary(p, scope, schema, auth));
  }
  return parts.length === 1 ? (parts[0] as Pred) : (row) => parts.every((f) => f(row));
}

function disjunction(p: Parser, scope: Scope, schema: ModuleSchema, auth: SqlAuth): Pred {
  const parts = [conjunction(p, scope, schema, auth)];
  while (p.isKeyword('OR')) {
    p.next();
    parts.push(conjunction(p, scope, schema, auth));
  }
  return parts.length === 1 ? (parts[0] as Pred) : (row) => parts.some((f) => f(row));
}

export function readableTable(schema: ModuleSchema, name: string, auth: SqlAuth): TableSchema {
  const table = schema.tableByName(name);
  // Private tables are invisible to non-owners: they resolve exactly like a missing table.
  if (!table || (!table.isPublic && !auth.isOwner))
    throw new SqlError(
      'unresolved',
      `no such table: \`${name}\`. If the table exists, it may be marked private.`,
    );
  return table;
}

const SELECT_ALL_TABLES = /^\s*SELECT\s+\*\s+FROM\s+\*\s*;?\s*$/i;

/** Compiles one query string into its fragments (one per table it returns rows of). */
export function compileQuery(sql: string, schema: ModuleSchema, auth: SqlAuth): CompiledQuery[] {
  if (SELECT_ALL_TABLES.test(sql)) {
    return schema.tables
      .filter((t) => !t.isEvent && (t.isPublic || auth.isOwner))
      .map((table) => ({ sql: `SELECT * FROM ${table.name}`, table, matches: () => true }));
  }
  const p = new Parser(tokenize(sql));
  if (!p.isKeyword('SELECT')) throw p.unexpected(p.peek(), 'SELECT');
  p.next();
  // Projection: `*` or `t.*` only.
  let projectedQualifier: string | undefined;
  if (p.isOp('*')) p.next();
  else {
    const t = p.next();
    if (p.isKeyword('DISTINCT', t) || p.isKeyword('COUNT', t)) throw p.unexpected(t);
    if (t.kind === 'ident' && p.isOp('.') && p.isOp('*', p.peekAt(1))) {
      p.next();
      p.next();
      projectedQualifier = t.value;
    } else
      throw new SqlError(
        'unsupported',
        'column projections are not supported: subscriptions return whole rows (SELECT * or SELECT t.*)',
      );
  }
  p.expectKeyword('FROM');
  const tableName = p.identifier('a table name');
  const table = readableTable(schema, tableName, auth);
  const names = new Set([tableName, table.name, table.sourceName]);
  if (p.isKeyword('AS')) {
    p.next();
    names.add(p.identifier('an alias'));
  } else if (p.peek().kind === 'ident' && !KEYWORDS.has(p.peek().value.toUpperCase())) {
    names.add(p.identifier('an alias'));
  }
  if (p.isKeyword('JOIN') || p.isKeyword('INNER') || p.isKeyword('LEFT')) throw p.unexpected(p.peek());
  if (p.isOp(',')) throw new SqlError('unsupported', 'implicit (comma) joins are not supported');
  if (projectedQualifier !== undefined && !names.has(projectedQualifier))
    throw new SqlError('unresolved', `no such table: \`${projectedQualifier}\``);
  const scope: Scope = { table, names };
  let pred: Pred = () => true;
  if (p.isKeyword('WHERE')) {
    p.next();
    pred = disjunction(p, scope, schema, auth);
  }
  if (p.isOp(';')) p.next();
  const end = p.next();
  if (end.kind !== 'eof') throw p.unexpected(end, 'end of query');
  const decode = decoder(table, schema);
  return [{ sql, table, matches: (row) => pred(decode(row)) }];
}

/**
 * Row-level security (`clientVisibilityFilter`, spec §4.4): a non-owner sees a row of a table with
 * rules iff at least one rule matches it. The owner sees everything.
 */
export function compileVisibility(
  schema: ModuleSchema,
  auth: SqlAuth,
): (tableId: number, row: Uint8Array) => boolean {
  if (auth.isOwner || schema.rowLevelSecurity.length === 0) return () => true;
  const rules = new Map<number, CompiledQuery[]>();
  for (const sql of schema.rowLevelSecurity) {
    let compiled: CompiledQuery[];
    try {
      compiled = compileQuery(sql, schema, { sender: auth.sender, isOwner: true });
    } catch (e) {
      if (e instanceof SqlError)
        throw new SqlError('unsupported', `row-level security rule \`${sql}\`: ${e.message}`);
      throw e;
    }
    for (const q of compiled) rules.set(q.table.tableId, [...(rules.get(q.table.tableId) ?? []), q]);
  }
  return (tableId, row) => {
    const r = rules.get(tableId);
    return r === undefined || r.some((q) => q.matches(row));
  };
}
