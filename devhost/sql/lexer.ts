/**
 * Tokens of SpacetimeDB's SQL, following the lexical rules of the parser it uses (sqlparser 0.38,
 * `PostgreSqlDialect`): case is kept (keywords are matched case-insensitively by the parser), `--` and
 * nested `/* *\/` comments are whitespace, strings escape `'` by doubling it and keep backslashes, hex
 * literals are `0x…` (lowercase x) or `X'…'`, and identifiers may be Unicode letters.
 */
import { SqlError } from './sql-error.js';

export type TokenKind =
  /** Unquoted identifier or keyword. */
  | 'word'
  /** Double-quoted identifier (never a keyword). */
  | 'quoted'
  | 'string'
  /** `N'…'`, `E'…'` and `$…` constants: lexically valid, rejected as literals. */
  | 'other-literal'
  | 'number'
  | 'hex'
  | 'op'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly value: string;
  /** Offset of the token's first character in the query text. */
  readonly at: number;
  /** Offset just past the token. */
  readonly end: number;
}

// Longest first, so `<=>` wins over `<=` and `<=` over `<`.
const OPS = [
  '<=>',
  '->>',
  '#>>',
  '<=',
  '>=',
  '<>',
  '!=',
  '==',
  '=>',
  '::',
  ':=',
  '||',
  '<<',
  '>>',
  '->',
  '#>',
  '@>',
  '<@',
  '&&',
  '!!',
  '=',
  '<',
  '>',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  '.',
  '*',
  ';',
  '+',
  '-',
  '/',
  '%',
  ':',
  '|',
  '&',
  '^',
  '~',
  '#',
  '@',
  '!',
  '\\',
];

const IDENT_START = /[\p{Alphabetic}_]/u;
const IDENT_PART = /[\p{Alphabetic}0-9$_]/u;
const HEX_DIGIT = /[0-9A-Fa-f]/;
const DIGIT = /[0-9]/;

function parseError(message: string): SqlError {
  return new SqlError('parse', `sql parser error: ${message}`);
}

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, value: string, at: number) => out.push({ kind, value, at, end: i });

  /** Reads a quoted run starting at the opening quote; a doubled quote stands for one. */
  const quoted = (quote: string, what: string): string => {
    const start = i;
    i++;
    let value = '';
    for (;;) {
      if (i >= sql.length) throw parseError(`${what} at offset ${start}`);
      const c = sql[i] as string;
      i++;
      if (c !== quote) {
        value += c;
        continue;
      }
      if (sql[i] === quote) {
        value += quote;
        i++;
        continue;
      }
      return value;
    }
  };

  while (i < sql.length) {
    const c = sql[i] as string;
    const at = i;
    if (/\s/u.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= sql.length) throw parseError(`Unexpected EOF while in a multi-line comment at offset ${at}`);
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    const next = sql[i + 1];
    if ((c === 'x' || c === 'X') && next === "'") {
      i++;
      push('hex', quoted("'", 'Unterminated string literal'), at);
      continue;
    }
    if ((c === 'n' || c === 'N' || c === 'e' || c === 'E') && next === "'") {
      i++;
      const value = quoted("'", 'Unterminated string literal');
      push('other-literal', `${c}'${value}'`, at);
      continue;
    }
    if (IDENT_START.test(c)) {
      i++;
      while (i < sql.length && IDENT_PART.test(sql[i] as string)) i++;
      push('word', sql.slice(at, i), at);
      continue;
    }
    if (c === '"') {
      push('quoted', quoted('"', "Expected close delimiter '\"' before EOF."), at);
      continue;
    }
    if (c === "'") {
      push('string', quoted("'", 'Unterminated string literal'), at);
      continue;
    }
    if (DIGIT.test(c) || (c === '.' && DIGIT.test(next ?? ''))) {
      if (c === '0' && next === 'x') {
        i += 2;
        while (i < sql.length && HEX_DIGIT.test(sql[i] as string)) i++;
        push('hex', sql.slice(at + 2, i), at);
        continue;
      }
      while (i < sql.length && DIGIT.test(sql[i] as string)) i++;
      if (sql[i] === '.') {
        i++;
        while (i < sql.length && DIGIT.test(sql[i] as string)) i++;
      }
      const exponent = /^[eE][+-]?[0-9]+/.exec(sql.slice(i));
      if (exponent) i += exponent[0].length;
      const text = sql.slice(at, i);
      // sqlparser accepts (and drops) a trailing `L` "long" marker.
      if (sql[i] === 'L') i++;
      push('number', text, at);
      continue;
    }
    if (c === '$') {
      i++;
      while (i < sql.length && IDENT_PART.test(sql[i] as string)) i++;
      push('other-literal', sql.slice(at, i), at);
      continue;
    }
    const op = OPS.find((o) => sql.startsWith(o, i));
    if (!op) throw parseError(`Unexpected character '${c}' at offset ${at}`);
    i += op.length;
    push('op', op, at);
  }
  out.push({ kind: 'eof', value: '', at: sql.length, end: sql.length });
  return out;
}

/** How a token reads in an error message, the way sqlparser prints it. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'EOF';
    case 'quoted':
      return `"${t.value}"`;
    case 'string':
      return `'${t.value}'`;
    case 'hex':
      return `X'${t.value}'`;
    default:
      return t.value;
  }
}
