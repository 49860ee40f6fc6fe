/**
 * Subscription SQL expressions (the WHERE clause and ON conditions), by precedence climbing with
 * sqlparser 0.38's precedences (keywords.ts), so the same text groups the same way as on SpacetimeDB.
 * Only what SpacetimeDB evaluates is built: literals, `:sender`, column names, comparisons, AND/OR;
 * every other construct is refused with `unsupported`, naming it. Nesting and the operator count are
 * bounded (below). Statements and clauses are parser.ts's.
 */
import { COMPARISONS, KEYWORD_PRECEDENCE, OP_PRECEDENCE, UNSUPPORTED_PREFIX_KEYWORDS } from './keywords.js';
import type { Token } from './lexer.js';
import type { RawExpr } from './qualify.js';
import { SqlError, unsupported } from './sql-error.js';
import { TokenCursor } from './token-cursor.js';

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

export class ExpressionParser extends TokenCursor {
  private nesting = 0;
  private operators = 0;

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
