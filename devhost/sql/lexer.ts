/** Tokens of the subscription SQL subset (host spec §4.1; PostgreSQL lexical rules). */
import { SqlError } from './sql-error.js';

export type Token =
  | { readonly kind: 'ident'; readonly value: string; readonly quoted: boolean; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'number'; readonly value: string; readonly at: number }
  | { readonly kind: 'hex'; readonly value: string; readonly at: number }
  | { readonly kind: 'param'; readonly value: string; readonly at: number }
  | { readonly kind: 'op'; readonly value: string; readonly at: number }
  | { readonly kind: 'eof'; readonly value: ''; readonly at: number };

const OPS = ['<=', '>=', '<>', '!=', '=', '<', '>', '(', ')', ',', '.', '*', ';', '+', '-'];

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if ((c === 'x' || c === 'X') && sql[i + 1] === "'") {
      const end = sql.indexOf("'", i + 2);
      if (end < 0) throw new SqlError('parse', `unterminated hex literal at ${at}`);
      out.push({ kind: 'hex', value: sql.slice(i + 2, end), at });
      i = end + 1;
      continue;
    }
    if (c === '0' && (sql[i + 1] === 'x' || sql[i + 1] === 'X') && /[0-9a-fA-F]/.test(sql[i + 2] ?? '')) {
      let j = i + 2;
      while (j < sql.length && /[0-9a-fA-F]/.test(sql[j] as string)) j++;
      out.push({ kind: 'hex', value: sql.slice(i + 2, j), at });
      i = j;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j] as string)) j++;
      out.push({ kind: 'ident', value: sql.slice(i, j), quoted: false, at });
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= sql.length)
          throw new SqlError('parse', `unterminated ${c === '"' ? 'identifier' : 'string'} at ${at}`);
        const d = sql[j] as string;
        if (d === c) {
          if (sql[j + 1] === c) {
            value += c;
            j += 2;
            continue;
          }
          break;
        }
        value += d;
        j++;
      }
      out.push(c === '"' ? { kind: 'ident', value, quoted: true, at } : { kind: 'string', value, at });
      i = j + 1;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(sql.slice(i));
      const text = (m as RegExpExecArray)[0];
      out.push({ kind: 'number', value: text, at });
      i += text.length;
      continue;
    }
    if (c === ':') {
      const m = /^:([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i));
      if (!m) throw new SqlError('parse', `unexpected ':' at ${at}`);
      out.push({ kind: 'param', value: m[1] as string, at });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => sql.startsWith(o, i));
    if (!op) throw new SqlError('parse', `unexpected character '${c}' at ${at}`);
    out.push({ kind: 'op', value: op, at });
    i += op.length;
  }
  out.push({ kind: 'eof', value: '', at: sql.length });
  return out;
}
