/**
 * Type checking and lowering of a WHERE expression — a port of `_type_expr` in SpacetimeDB's
 * `crates/expr/src/lib.rs`: the same inference order (a literal or `:sender` on the left is typed by the
 * right operand, otherwise the right by the left), the same exact-type rule for columns, the same
 * comparable types, and the same error wording. The result evaluates a decoded row.
 */
import type { ColumnSchema, TableSchema, Typespace } from '../contract.js';
import type { BinOp, SqlExpr } from './ast.js';
import { LiteralError, parseLiteral } from './literals.js';
import { SqlError } from './sql-error.js';
import {
  BOOL,
  comparableKind,
  formatType,
  IDENTITY,
  isBytes,
  isIdentity,
  resolve,
  sameType,
  specialField,
  type Ty,
} from './types.js';
import { compareValues, type Value } from './values.js';

/** A row as the SDK deserializer produces it: fields by their (source) names. */
export type DecodedRow = Readonly<Record<string, unknown>>;

interface Typed {
  readonly ty: Ty;
  readonly eval: (row: DecodedRow) => Value;
}

export interface Scope {
  readonly table: TableSchema;
  /** The relation's alias — the only name a qualified column may use (SpacetimeDB's `Relvars`). */
  readonly alias: string;
  readonly typespace: Typespace;
  readonly sender: bigint;
}

export function unresolvedVar(name: string): SqlError {
  return new SqlError('unresolved', `\`${name}\` is not in scope`);
}

function unexpectedType(expected: Ty, inferred: Ty, typespace: Typespace): SqlError {
  return new SqlError(
    'type',
    `Unexpected type: (expected) ${formatType(expected, typespace)} != ${formatType(inferred, typespace)} (inferred)`,
  );
}

/** A column by canonical name or accessor alias (`get_column_by_name_or_alias`). */
export function columnByNameOrAlias(table: TableSchema, name: string): ColumnSchema | undefined {
  return table.columns.find((c) => c.name === name) ?? table.columns.find((c) => c.sourceName === name);
}

function senderBytes(sender: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = sender;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function fieldReader(col: ColumnSchema, ty: Ty): (row: DecodedRow) => Value {
  const name = col.sourceName;
  const special = specialField(ty);
  // Identity & co. decode as class instances; compare by their one numeric field.
  if (special !== undefined) return (row) => (row[name] as Record<string, bigint>)[special] as bigint;
  return (row) => row[name] as Value;
}

const TESTS: Record<BinOp, (c: number) => boolean> = {
  '=': (c) => c === 0,
  '<>': (c) => c !== 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

function typeExpr(scope: Scope, expr: SqlExpr, expected: Ty | undefined): Typed {
  const { typespace } = scope;
  const isBoolOrNone = expected === undefined || expected.tag === 'Bool';
  switch (expr.kind) {
    case 'lit': {
      const lit = expr.lit;
      if (lit.kind === 'bool') {
        if (!isBoolOrNone) throw unexpectedType(BOOL, expected, typespace);
        const v = lit.value;
        return { ty: BOOL, eval: () => v };
      }
      if (expected === undefined)
        throw new SqlError('unresolved', 'Cannot resolve type for literal expression');
      const name = formatType(expected, typespace);
      try {
        const v = parseLiteral(lit.text, resolve(expected, typespace), name);
        return { ty: expected, eval: () => v };
      } catch (e) {
        if (!(e instanceof LiteralError)) throw e;
        throw new SqlError(
          'type',
          `The literal expression \`${lit.text}\` cannot be parsed as type \`${name}\` (${e.message})`,
        );
      }
    }
    case 'sender': {
      if (expected === undefined) {
        const v = scope.sender;
        return { ty: IDENTITY, eval: () => v };
      }
      const ty = resolve(expected, typespace);
      if (isIdentity(ty)) {
        const v = scope.sender;
        return { ty: expected, eval: () => v };
      }
      if (isBytes(ty)) {
        const v = senderBytes(scope.sender);
        return { ty: expected, eval: () => v };
      }
      throw unexpectedType(IDENTITY, expected, typespace);
    }
    case 'field': {
      if (expr.table !== scope.alias) throw unresolvedVar(expr.table);
      const col = columnByNameOrAlias(scope.table, expr.field);
      if (!col) throw unresolvedVar(expr.field);
      if (expected !== undefined && !sameType(col.type, expected, typespace))
        throw unexpectedType(col.type, expected, typespace);
      const ty = resolve(col.type, typespace);
      return { ty, eval: fieldReader(col, ty) };
    }
    case 'log': {
      if (!isBoolOrNone) throw unexpectedType(BOOL, expected, typespace);
      const a = typeExpr(scope, expr.left, BOOL).eval;
      const b = typeExpr(scope, expr.right, BOOL).eval;
      return {
        ty: BOOL,
        eval:
          expr.op === 'AND'
            ? (row) => a(row) === true && b(row) === true
            : (row) => a(row) === true || b(row) === true,
      };
    }
    case 'bin': {
      if (!isBoolOrNone) throw unexpectedType(BOOL, expected, typespace);
      let a: Typed;
      let b: Typed;
      if (expr.left.kind === 'lit' || expr.left.kind === 'sender') {
        b = typeExpr(scope, expr.right, undefined);
        a = typeExpr(scope, expr.left, b.ty);
      } else {
        a = typeExpr(scope, expr.left, undefined);
        b = typeExpr(scope, expr.right, a.ty);
      }
      const kind = comparableKind(resolve(a.ty, typespace));
      if (kind === undefined)
        throw new SqlError(
          'type',
          `Invalid binary operator \`${expr.op}\` for type \`${formatType(a.ty, typespace)}\``,
        );
      const test = TESTS[expr.op];
      const [x, y] = [a.eval, b.eval];
      return { ty: BOOL, eval: (row) => test(compareValues(kind, x(row), y(row))) };
    }
  }
}

/** Types a WHERE clause (it must be a Bool) and returns its row predicate. */
export function typeFilter(scope: Scope, filter: SqlExpr): (row: DecodedRow) => boolean {
  const typed = typeExpr(scope, filter, BOOL);
  return (row) => typed.eval(row) === true;
}

/** Resolves a projected column the way `type_proj` does, for its errors only. */
export function resolveProjectedColumn(scope: Scope, table: string, field: string): void {
  typeExpr(scope, { kind: 'field', table, field }, undefined);
}
