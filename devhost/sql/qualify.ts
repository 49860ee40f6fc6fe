/**
 * SpacetimeDB's `qualify_vars` step, after parsing: a bare column name refers to the (only)
 * relation, by its alias; in a join (no single alias) it is an error. The parser's output before this
 * step (RawExpr, RawProjection) is typed here, so only qualified names leave parser.ts.
 */
import type { BinOp, Projection, SqlExpr } from './ast.js';
import { SqlError } from './sql-error.js';

/** An expression before `qualify_vars`: unqualified column names are still bare. */
export type RawExpr =
  | SqlExpr
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'rbin'; readonly op: BinOp; readonly left: RawExpr; readonly right: RawExpr }
  | { readonly kind: 'rlog'; readonly op: 'AND' | 'OR'; readonly left: RawExpr; readonly right: RawExpr };

export type RawProjection =
  | { readonly kind: 'star'; readonly qualifier?: string }
  | { readonly kind: 'count' }
  | {
      readonly kind: 'columns';
      readonly columns: readonly { readonly table?: string; readonly field: string }[];
    };

export function qualifyProjection(p: RawProjection, alias: string | undefined): Projection {
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
export function qualify(e: RawExpr, alias: string | undefined): SqlExpr {
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
