/**
 * The parsed form of a subscription query — the part of SpacetimeDB's `SqlSelect`
 * (`crates/sql-parser/src/ast`) devhost evaluates: one table, or two joined on column equality.
 */

export type BinOp = '=' | '<>' | '<' | '>' | '<=' | '>=';
export type LogOp = 'AND' | 'OR';

export type SqlLiteral =
  | { readonly kind: 'bool'; readonly value: boolean }
  /** Integer or float text as written, sign included (`-1`, `1.5e3`). */
  | { readonly kind: 'num'; readonly text: string }
  | { readonly kind: 'str'; readonly text: string }
  /** Hex digits of `0x…` / `X'…'`, without the prefix. */
  | { readonly kind: 'hex'; readonly text: string };

export type SqlExpr =
  | { readonly kind: 'lit'; readonly lit: SqlLiteral }
  /** `:sender`. */
  | { readonly kind: 'sender' }
  /**
   * A column reference. Unqualified names get the relation's alias as `table`, as SpacetimeDB's
   * `qualify_vars` does before type checking.
   */
  | { readonly kind: 'field'; readonly table: string; readonly field: string }
  | { readonly kind: 'bin'; readonly op: BinOp; readonly left: SqlExpr; readonly right: SqlExpr }
  | { readonly kind: 'log'; readonly op: LogOp; readonly left: SqlExpr; readonly right: SqlExpr };

export type Projection =
  /** `*` (no qualifier) or `alias.*`. */
  | { readonly kind: 'star'; readonly qualifier?: string }
  /** `SELECT a, t.b …`: parsed so names resolve, then refused (subscriptions return whole rows). */
  | { readonly kind: 'columns'; readonly columns: readonly { table: string; field: string }[] }
  /** `SELECT COUNT(*) AS n`: refused for the same reason. */
  | { readonly kind: 'count' };

export interface FieldRef {
  readonly table: string;
  readonly field: string;
}

/** A relation: table name as written (possibly `ns.t`) and its alias (the name itself when none is given). */
export interface Relation {
  readonly table: string;
  readonly alias: string;
}

export interface SqlSelect {
  readonly project: Projection;
  readonly from: Relation;
  /** `[INNER] JOIN table [AS alias] ON a.x = b.y`: the one join a subscription may have. */
  readonly join?: Relation & { readonly on: { readonly left: FieldRef; readonly right: FieldRef } };
  readonly filter?: SqlExpr;
}
