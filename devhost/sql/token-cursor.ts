/**
 * The parser's cursor over the lexer's tokens (lexer.ts): look ahead, consume, match keywords and
 * operators, and the source text of a span for messages. The error for an unexpected token says what
 * was expected and what was found, worded as sqlparser words it (SpacetimeDB passes it through).
 */
import { describeToken, type Token } from './lexer.js';
import { SqlError } from './sql-error.js';

export class TokenCursor {
  /** The current token's index; the parsers set it back to name a construct they refuse. */
  protected i = 0;
  constructor(
    protected readonly sql: string,
    protected readonly tokens: readonly Token[],
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
}
