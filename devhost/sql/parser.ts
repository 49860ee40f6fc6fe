/**
 * Parses SpacetimeDB's subscription SQL (`crates/sql-parser/src/parser/sub.rs`) into a `SqlSelect`: one
 * table, or two joined by `[INNER] JOIN … ON a.x = b.y`. Operator precedence and literal forms follow
 * sqlparser 0.38, which SpacetimeDB uses, so the same text means the same thing here. Everything
 * SpacetimeDB refuses (NOT, IS, IN, LIKE, functions, ORDER BY, outer joins, …) is refused with
 * `unsupported`.
 */
import type { BinOp, Projection, Relation, SqlExpr, SqlSelect } from './ast.js';
import {
  COMPARISONS,
  JOIN_WORDS,
  KEYWORD_PRECEDENCE,
  NON_QUERY_STATEMENTS,
  OP_PRECEDENCE,
  RESERVED_FOR_COLUMN_ALIAS,
  RESERVED_FOR_TABLE_ALIAS,
  UNSUPPORTED_PREFIX_KEYWORDS,
} from './keywords.js';
import { describeToken, type Token, tokenize } from './lexer.js';
import { SqlError } from './sql-error.js';

/** An expression before `qualify_vars`: unqualified column names are still bare. */
type RawExpr =
  | SqlExpr
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'rbin'; readonly op: BinOp; readonly left: RawExpr; readonly right: RawExpr }
  | { readonly kind: 'rlog'; readonly op: 'AND' | 'OR'; readonly left: RawExpr; readonly right: RawExpr };

const JOIN_ON_ONLY = 'a subscription joins two tables on one column of each being equal';

/**
 * Expression nesting (parentheses, signs, right operands) the parser descends into: sqlparser's
 * default recursion limit, so deeper text is refused as SpacetimeDB refuses it, with a parse error
 * instead of exhausting the stack (the fuzzer found `((((…` crashing the parse with a RangeError).
 */
export const MAX_EXPR_NESTING = 50;
/**
 * Binary operators in one query. A chain `a = 1 AND a = 1 AND …` nests as deep as it is long and
 * every later step walks it recursively; the host's own bound (64 comparisons) is far below this.
 */
export const MAX_EXPR_OPERATORS = 1000;

function unsupported(message: string): SqlError {
  return new SqlError('unsupported', message);
}

class Parser {
  private i = 0;
  private nesting = 0;
  private operators = 0;
  constructor(
    private readonly sql: string,
    private readonly tokens: readonly Token[],
  ) {}

  peek(k = 0): Token {
    return (this.tokens[this.i + k] ?? this.tokens[this.tokens.length - 1]) as Token;
  }
  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  get position(): number {
    return this.i;
  }
  isKeyword(word: string, t: Token = this.peek()): boolean {
    return t.kind === 'word' && t.value.toUpperCase() === word;
  }
  keyword(t: Token = this.peek()): string | undefined {
    return t.kind === 'word' ? t.value.toUpperCase() : undefined;
  }
  isOp(op: string, t: Token = this.peek()): boolean {
    return t.kind === 'op' && t.value === op;
  }
  eat(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }
  eatKeyword(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.i++;
    return true;
  }
  expected(what: string, t: Token = this.peek()): SqlError {
    return new SqlError('parse', `sql parser error: Expected ${what}, found: ${describeToken(t)}`);
  }
  expectOp(op: string): void {
    if (!this.eat(op)) throw this.expected(op);
  }
  /** Source text from token `from` up to (not including) the current token, for messages. */
  textFrom(from: number): string {
    const start = (this.tokens[from] as Token).at;
    const end = this.i > from ? (this.tokens[this.i - 1] as Token).end : start;
    return this.sql.slice(start, end);
  }
  /** Source text from token `from` to the end of the query, for messages about a clause. */
  restFrom(from: number): string {
    return this.sql.slice((this.tokens[from] as Token).at).trim();
  }

  identifier(what = 'identifier'): string {
    const t = this.peek();
    if (t.kind === 'word' || t.kind === 'quoted') {
      this.i++;
      return t.value;
    }
    throw this.expected(what, t);
  }

  // ---- statements ------------------------------------------------------------------------------

  statements(): SqlSelect {
    while (this.eat(';'));
    if (this.peek().kind === 'eof') throw unsupported('Empty SQL query');
    const select = this.statement();
    let delimited = false;
    while (this.eat(';')) delimited = true;
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (!delimited) throw this.expected('end of statement', t);
      throw unsupported('Multiple SQL statements are not supported');
    }
    return select;
  }

  statement(): SqlSelect {
    const t = this.peek();
    const kw = this.keyword(t);
    if (kw === 'SELECT' || kw === 'WITH' || kw === 'VALUES' || this.isOp('(', t)) return this.query();
    if (kw !== undefined && NON_QUERY_STATEMENTS.has(kw))
      throw unsupported('Unsupported: Non-SELECT queries');
    throw this.expected('an SQL statement', t);
  }

  query(): SqlSelect {
    const start = this.position;
    if (this.isKeyword('WITH'))
      throw unsupported(`Unsupported: ${this.restFrom(start)} (WITH is not supported)`);
    if (this.isOp('(') || this.isKeyword('VALUES'))
      throw unsupported(`Unsupported set operation: ${this.restFrom(start)}`);
    const select = this.select();
    const t = this.peek();
    const kw = this.keyword(t);
    if (kw === 'UNION' || kw === 'EXCEPT' || kw === 'INTERSECT')
      throw unsupported(`Unsupported set operation: ${kw} is not supported in subscriptions`);
    if (kw === 'ORDER' || kw === 'LIMIT' || kw === 'OFFSET' || kw === 'FETCH' || kw === 'FOR')
      throw unsupported(
        `Unsupported: ${this.restFrom(start)} (${kw === 'ORDER' ? 'ORDER BY' : kw} is not supported in subscriptions)`,
      );
    return select;
  }

  select(): SqlSelect {
    const start = this.position;
    if (!this.eatKeyword('SELECT')) throw this.expected('SELECT');
    const refuseSelect = (what: string) =>
      unsupported(`Unsupported SELECT: ${this.restFrom(start)} (${what} is not supported in subscriptions)`);
    if (this.isKeyword('DISTINCT')) throw refuseSelect('DISTINCT');
    if (this.isKeyword('TOP')) throw refuseSelect('TOP');
    this.eatKeyword('ALL');
    const project = this.projection();
    if (this.isKeyword('INTO')) throw refuseSelect('SELECT INTO');
    if (!this.eatKeyword('FROM')) {
      const t = this.peek();
      if (t.kind === 'eof' || this.isOp(';', t) || this.isKeyword('WHERE', t))
        throw new SqlError('parse', 'A FROM clause is required');
      throw this.expected('end of statement', t);
    }
    const { from, join } = this.from();
    let filter: RawExpr | undefined;
    if (this.eatKeyword('WHERE')) filter = this.expr(0);
    const kw = this.keyword();
    if (kw === 'GROUP') throw refuseSelect('GROUP BY');
    if (kw === 'HAVING') throw refuseSelect('HAVING');
    if (kw === 'CLUSTER' || kw === 'DISTRIBUTE' || kw === 'SORT' || kw === 'WINDOW' || kw === 'QUALIFY')
      throw refuseSelect(kw);
    // In a join a bare column name could mean either table: SpacetimeDB wants them qualified.
    const alias = join ? undefined : from.alias;
    return {
      project: qualifyProjection(project, alias),
      from,
      ...(join ? { join } : {}),
      ...(filter ? { filter: qualify(filter, alias) } : {}),
    };
  }

  // ---- projection ------------------------------------------------------------------------------

  projection(): RawProjection {
    const items: ProjectionItem[] = [this.projectionItem()];
    while (this.eat(',')) items.push(this.projectionItem());
    if (items.length === 1) {
      const item = items[0] as ProjectionItem;
      switch (item.kind) {
        case 'wildcard':
          return { kind: 'star' };
        case 'qualified-wildcard':
          return { kind: 'star', qualifier: item.qualifier };
        case 'function':
          if (!item.aliased) throw unsupported('Aggregate expressions must have column aliases');
          if (!item.isCountStar) throw unsupported(`Unsupported aggregate function: ${item.text}`);
          return { kind: 'count' };
        case 'column':
          return { kind: 'columns', columns: [item.column] };
      }
    }
    const columns = items.map((item) => {
      if (item.kind === 'wildcard' || item.kind === 'qualified-wildcard')
        throw unsupported('Mixed wildcard projections are not supported');
      if (item.kind === 'function') throw unsupported(`Unsupported projection expression: ${item.text}`);
      return item.column;
    });
    return { kind: 'columns', columns };
  }

  projectionItem(): ProjectionItem {
    const start = this.position;
    if (this.eat('*')) return { kind: 'wildcard' };
    // `a.b.*`: a qualified wildcard.
    let k = 0;
    while (
      (this.peek(k).kind === 'word' || this.peek(k).kind === 'quoted') &&
      this.isOp('.', this.peek(k + 1))
    ) {
      if (this.isOp('*', this.peek(k + 2))) return this.qualifiedWildcard(start);
      k += 2;
    }
    const first = this.peek();
    let item: ProjectionItem;
    if (first.kind === 'word' && this.isOp('(', this.peek(1))) {
      const name = this.next().value;
      const argsStart = this.position;
      this.skipParenthesized();
      const args = this.tokens.slice(argsStart + 1, this.position - 1);
      const isCountStar =
        name.toUpperCase() === 'COUNT' && args.length === 1 && this.isOp('*', args[0] as Token);
      item = { kind: 'function', text: this.textFrom(start), isCountStar, aliased: false };
    } else {
      const e = this.expr(0);
      if (e.kind === 'var') item = { kind: 'column', column: { field: e.name } };
      else if (e.kind === 'field') item = { kind: 'column', column: { table: e.table, field: e.field } };
      else throw unsupported(`Unsupported projection expression: ${this.textFrom(start)}`);
    }
    if (this.eatKeyword('AS')) {
      this.identifier('an alias');
      if (item.kind === 'function') item = { ...item, aliased: true };
    } else {
      const t = this.peek();
      const kw = this.keyword(t);
      if (t.kind === 'quoted' || (kw !== undefined && !RESERVED_FOR_COLUMN_ALIAS.has(kw))) {
        this.next();
        if (item.kind === 'function') item = { ...item, aliased: true };
      }
    }
    return item;
  }

  /** Re-reads `a.b.*` from `start` (the lookahead above only checked its shape). */
  qualifiedWildcard(start: number): ProjectionItem {
    this.i = start;
    const parts = [this.identifier()];
    while (this.eat('.')) {
      if (this.eat('*')) return { kind: 'qualified-wildcard', qualifier: parts.join('.') };
      parts.push(this.identifier());
    }
    throw this.expected('*');
  }

  skipParenthesized(): void {
    this.expectOp('(');
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.kind === 'eof') throw this.expected(')', t);
      if (this.isOp('(', t)) depth++;
      else if (this.isOp(')', t)) depth--;
    }
  }

  // ---- FROM --------------------------------------------------------------------------------------

  /** `table [[AS] alias]`. */
  relation(): Relation {
    const start = this.position;
    if (this.isOp('('))
      throw unsupported(`Unsupported FROM expression: ${this.restFrom(start)} (subqueries)`);
    const parts = [this.identifier('identifier')];
    while (this.eat('.')) parts.push(this.identifier('identifier'));
    const table = parts.join('.');
    if (this.isOp('('))
      throw unsupported(`Unsupported FROM expression: ${table}(…) (table functions are not supported)`);
    let alias = table;
    if (this.eatKeyword('AS')) alias = this.identifier('an alias');
    else {
      const t = this.peek();
      const kw = this.keyword(t);
      if (t.kind === 'quoted' || (kw !== undefined && !RESERVED_FOR_TABLE_ALIAS.has(kw)))
        alias = this.next().value;
    }
    if (this.isOp('(')) throw unsupported(`Unsupported FROM expression: ${this.textFrom(start)}(…)`);
    return { table, alias };
  }

  from(): { from: Relation; join?: NonNullable<SqlSelect['join']> } {
    const from = this.relation();
    if (this.isOp(',')) throw unsupported('Implicit joins are not supported (write JOIN … ON …)');
    const join = this.join();
    if (join && this.joinWord() !== undefined)
      throw unsupported('Invalid number of tables in subscription: at most two tables may be joined');
    return join ? { from, join } : { from };
  }

  private joinWord(): string | undefined {
    const kw = this.keyword();
    return kw !== undefined && JOIN_WORDS.has(kw) ? kw : undefined;
  }

  /** `[INNER] JOIN relation ON a.x = b.y`, if one follows. */
  private join(): NonNullable<SqlSelect['join']> | undefined {
    const kw = this.joinWord();
    if (kw === undefined) return undefined;
    if (kw !== 'JOIN' && kw !== 'INNER') {
      const outer = kw === 'LEFT' || kw === 'RIGHT' || kw === 'FULL' || kw === 'OUTER';
      throw unsupported(outer ? 'Non-inner joins are not supported' : `${kw} joins are not supported`);
    }
    this.eatKeyword('INNER');
    if (!this.eatKeyword('JOIN')) throw this.expected('JOIN');
    const relation = this.relation();
    if (!this.eatKeyword('ON'))
      throw unsupported(`Unsupported join: joins need ON <column> = <column> (${JOIN_ON_ONLY})`);
    const start = this.position;
    const on = this.expr(0);
    if (on.kind !== 'rbin' && on.kind !== 'bin')
      throw unsupported(`Unsupported join condition: ${this.textFrom(start)} (${JOIN_ON_ONLY})`);
    if (on.op !== '=' || on.left.kind !== 'field' || on.right.kind !== 'field')
      throw unsupported(`Unsupported join condition: ${this.textFrom(start)} (${JOIN_ON_ONLY})`);
    return {
      ...relation,
      on: {
        left: { table: on.left.table, field: on.left.field },
        right: { table: on.right.table, field: on.right.field },
      },
    };
  }

  // ---- expressions -------------------------------------------------------------------------------

  infixPrecedence(): number {
    const t = this.peek();
    if (t.kind === 'op') return OP_PRECEDENCE[t.value] ?? 0;
    const kw = this.keyword(t);
    if (kw === undefined) return 0;
    if (kw === 'NOT') {
      const after = this.keyword(this.peek(1));
      if (after === 'IN' || after === 'BETWEEN') return 20;
      if (after === 'LIKE' || after === 'ILIKE' || after === 'SIMILAR') return 19;
      return 0;
    }
    if (kw === 'AT' && this.isKeyword('TIME', this.peek(1))) return 20;
    return KEYWORD_PRECEDENCE[kw] ?? 0;
  }

  expr(precedence: number): RawExpr {
    if (++this.nesting > MAX_EXPR_NESTING)
      throw new SqlError('parse', 'sql parser error: recursion limit exceeded');
    try {
      let left = this.prefix();
      for (;;) {
        const next = this.infixPrecedence();
        if (next <= precedence) return left;
        if (++this.operators > MAX_EXPR_OPERATORS)
          throw unsupported(`Unsupported expression: more than ${MAX_EXPR_OPERATORS} operators in one query`);
        left = this.infix(left, next);
      }
    } finally {
      this.nesting--;
    }
  }

  infix(left: RawExpr, precedence: number): RawExpr {
    const start = this.position;
    const t = this.next();
    if (t.kind === 'op') {
      const op = COMPARISONS[t.value];
      if (op) return { kind: 'rbin', op, left, right: this.expr(precedence) };
      if (t.value === '::') throw unsupported('Unsupported expression: casts (`::`) are not supported');
      throw unsupported(`Unsupported binary operator: ${t.value}`);
    }
    const kw = t.value.toUpperCase();
    if (kw === 'AND' || kw === 'OR') return { kind: 'rlog', op: kw, left, right: this.expr(precedence) };
    const construct = kw === 'NOT' ? `NOT ${this.peek().value.toUpperCase()}` : kw;
    const why: Record<string, string> = {
      IS: 'IS [NOT] NULL / IS TRUE and other IS tests are not supported',
      IN: 'IN lists are not supported; combine comparisons with OR',
      BETWEEN: 'BETWEEN is not supported; combine >= and <= with AND',
      LIKE: 'LIKE is not supported',
      ILIKE: 'ILIKE is not supported',
      SIMILAR: 'SIMILAR TO is not supported',
    };
    const base = kw === 'NOT' ? this.peek().value.toUpperCase() : kw;
    this.i = start;
    throw unsupported(
      `Unsupported expression: ${construct} (${why[base] ?? `${construct} is not supported`})`,
    );
  }

  prefix(): RawExpr {
    const start = this.position;
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return { kind: 'lit', lit: { kind: 'num', text: t.value } };
      case 'string':
        if (this.peek().kind === 'string')
          throw unsupported('Unsupported expression: adjacent string literals are not supported');
        return { kind: 'lit', lit: { kind: 'str', text: t.value } };
      case 'hex':
        return { kind: 'lit', lit: { kind: 'hex', text: t.value } };
      case 'other-literal':
        throw unsupported(`Unsupported literal expression: ${t.value}`);
      case 'quoted':
        return this.identifierChain(t.value);
      case 'word':
        return this.wordPrefix(t, start);
      case 'op':
        return this.opPrefix(t, start);
      case 'eof':
        throw this.expected('an expression:', t);
    }
  }

  wordPrefix(t: Token, start: number): RawExpr {
    const kw = t.value.toUpperCase();
    if (kw === 'TRUE' || kw === 'FALSE') return { kind: 'lit', lit: { kind: 'bool', value: kw === 'TRUE' } };
    if (kw === 'NULL') throw unsupported('Unsupported literal expression: NULL (NULL is not supported)');
    if (kw === 'NOT')
      throw unsupported(
        `Unsupported expression: ${this.restFrom(start)} (NOT is not supported in subscription queries; ` +
          'write `(condition) = FALSE` instead)',
      );
    if (this.isOp('('))
      throw unsupported(`Unsupported expression: ${t.value}(…) (functions are not supported)`);
    if (UNSUPPORTED_PREFIX_KEYWORDS.has(kw) || (kw === 'ARRAY' && this.isOp('[')))
      throw unsupported(`Unsupported expression: ${kw} is not supported in subscription queries`);
    if (this.peek().kind === 'string')
      throw unsupported(`Unsupported expression: typed literal ${t.value} '…' is not supported`);
    return this.identifierChain(t.value);
  }

  opPrefix(t: Token, start: number): RawExpr {
    switch (t.value) {
      case '(': {
        if (this.isKeyword('SELECT') || this.isKeyword('WITH'))
          throw unsupported('Unsupported expression: subqueries are not supported');
        const inner = this.expr(0);
        if (this.isOp(',')) throw unsupported('Unsupported expression: tuples are not supported');
        this.expectOp(')');
        if (this.isOp('.')) throw unsupported('Unsupported expression: composite access is not supported');
        // Parentheses only group: SpacetimeDB's parser unwraps `Expr::Nested`.
        return inner;
      }
      case '-':
      case '+': {
        const operand = this.position;
        const e = this.expr(40);
        // Only `-<number>` is a (signed) literal; `-x`, `-(1)` or `-'a'` are expressions SpacetimeDB refuses.
        const single = this.position === operand + 1 && (this.tokens[operand] as Token).kind === 'number';
        if (e.kind === 'lit' && e.lit.kind === 'num' && single)
          return { kind: 'lit', lit: { kind: 'num', text: `${t.value}${e.lit.text}` } };
        throw unsupported(`Unsupported expression: ${this.textFrom(start)}`);
      }
      case ':': {
        const name = this.identifier('identifier');
        if (`:${name}` === ':sender') return { kind: 'sender' };
        throw unsupported(`Unsupported literal expression: :${name} (the only parameter is :sender)`);
      }
      case '@':
        throw unsupported(`Unsupported literal expression: @${this.identifier('identifier')}`);
      case '*':
        throw unsupported('Unsupported expression: * (a wildcard is not a value)');
      default:
        throw this.expected('an expression:', t);
    }
  }

  identifierChain(first: string): RawExpr {
    const parts = [first];
    while (this.isOp('.')) {
      this.next();
      if (this.isOp('*')) throw unsupported('Unsupported expression: qualified wildcard in an expression');
      parts.push(this.identifier('identifier'));
    }
    if (this.isOp('('))
      throw unsupported(`Unsupported expression: ${parts.join('.')}(…) (functions are not supported)`);
    if (parts.length === 1) return { kind: 'var', name: first };
    const field = parts.pop() as string;
    return { kind: 'field', table: parts.join('.'), field };
  }
}

type ProjectionItem =
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'qualified-wildcard'; readonly qualifier: string }
  | {
      readonly kind: 'function';
      readonly text: string;
      readonly isCountStar: boolean;
      readonly aliased: boolean;
    }
  | { readonly kind: 'column'; readonly column: { readonly table?: string; readonly field: string } };

type RawProjection =
  | { readonly kind: 'star'; readonly qualifier?: string }
  | { readonly kind: 'count' }
  | {
      readonly kind: 'columns';
      readonly columns: readonly { readonly table?: string; readonly field: string }[];
    };

function qualifyProjection(p: RawProjection, alias: string | undefined): Projection {
  if (p.kind !== 'columns') return p;
  return {
    kind: 'columns',
    columns: p.columns.map((c) => ({ table: c.table ?? qualifierFor(c.field, alias), field: c.field })),
  };
}

function qualifierFor(name: string, alias: string | undefined): string {
  if (alias === undefined)
    throw new SqlError('unresolved', `\`${name}\` is not in scope (qualify columns in a join)`);
  return alias;
}

/**
 * SpacetimeDB's `qualify_vars`: a bare column name refers to the (only) relation, by its alias; in a
 * join (no single alias) it is an error.
 */
function qualify(e: RawExpr, alias: string | undefined): SqlExpr {
  switch (e.kind) {
    case 'var':
      return { kind: 'field', table: qualifierFor(e.name, alias), field: e.name };
    case 'rbin':
    case 'bin':
      return { kind: 'bin', op: e.op, left: qualify(e.left, alias), right: qualify(e.right, alias) };
    case 'rlog':
    case 'log':
      return { kind: 'log', op: e.op, left: qualify(e.left, alias), right: qualify(e.right, alias) };
    default:
      return e;
  }
}

/** Parses one subscription query (after `SELECT * FROM *` has been recognised elsewhere). */
export function parseSubscription(sql: string): SqlSelect {
  return new Parser(sql, tokenize(sql)).statements();
}
