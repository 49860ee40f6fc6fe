/**
 * How much work a query's WHERE clause is per candidate row: its comparisons. The host bounds it, since
 * every subscription is evaluated on the one event loop (and again for every transaction).
 */
import type { SqlExpr } from './ast.js';
import { parseSubscription } from './parser.js';

/** Comparisons in a parsed WHERE clause. */
export function termCount(e: SqlExpr | undefined): number {
  if (!e) return 0;
  if (e.kind === 'bin') return 1 + termCount(e.left) + termCount(e.right);
  if (e.kind === 'log') return termCount(e.left) + termCount(e.right);
  return 0;
}

/** Comparisons in the query's WHERE clause; 0 when it does not parse (compiling reports that). */
export function queryTermCount(sql: string): number {
  try {
    return termCount(parseSubscription(sql).filter);
  } catch {
    return 0;
  }
}
