/**
 * Column types as SpacetimeDB's SQL type checker sees them (`crates/expr/src/lib.rs`): which types a
 * comparison accepts (`op_supports_type`), exact type equality, and the `fmt_algebraic_type` notation
 * its error messages use.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { Typespace } from '../contract.js';

export type Ty = AlgebraicTypeType;

export const BOOL: Ty = { tag: 'Bool' };
export const IDENTITY: Ty = {
  tag: 'Product',
  value: { elements: [{ name: '__identity__', algebraicType: { tag: 'U256' } }] },
};

/**
 * How values of a comparable type are represented once decoded (see `values.ts`): the row decoder
 * turns special products into their single bigint field and leaves everything else as the SDK
 * deserializer produced it.
 */
export type Kind =
  | 'bool'
  /** u8…u32 / i8…i32: JS numbers. */
  | 'small-int'
  /** u64…u256 / i64…i256: bigints. */
  | 'big-int'
  | 'float'
  | 'string'
  | 'bytes'
  /** Identity, ConnectionId, Timestamp, Uuid: their one field, a bigint. */
  | 'special';

export interface IntRange {
  readonly bits: number;
  readonly signed: boolean;
}

export const INT_TYPES: Partial<Record<Ty['tag'], IntRange>> = {
  I8: { bits: 8, signed: true },
  U8: { bits: 8, signed: false },
  I16: { bits: 16, signed: true },
  U16: { bits: 16, signed: false },
  I32: { bits: 32, signed: true },
  U32: { bits: 32, signed: false },
  I64: { bits: 64, signed: true },
  U64: { bits: 64, signed: false },
  I128: { bits: 128, signed: true },
  U128: { bits: 128, signed: false },
  I256: { bits: 256, signed: true },
  U256: { bits: 256, signed: false },
};

/** The special product types, by their one field's name and type. */
export const SPECIAL_FIELDS = {
  __identity__: 'U256',
  __connection_id__: 'U128',
  __timestamp_micros_since_unix_epoch__: 'I64',
  __uuid__: 'U128',
  __time_duration_micros__: 'I64',
} as const;
export type SpecialField = keyof typeof SPECIAL_FIELDS;

export function resolve(ty: Ty, typespace: Typespace): Ty {
  let t = ty;
  for (let hops = 0; t.tag === 'Ref' && hops <= typespace.types.length; hops++)
    t = typespace.types[t.value] ?? t;
  return t;
}

/** The single field of Identity/ConnectionId/Timestamp/Uuid/TimeDuration, if `ty` is one of them. */
export function specialField(ty: Ty): SpecialField | undefined {
  if (ty.tag !== 'Product' || ty.value.elements.length !== 1) return undefined;
  const el = ty.value.elements[0];
  const name = el?.name;
  if (name === undefined || !(name in SPECIAL_FIELDS)) return undefined;
  const field = name as SpecialField;
  return el?.algebraicType.tag === SPECIAL_FIELDS[field] ? field : undefined;
}

export const isBytes = (ty: Ty): boolean => ty.tag === 'Array' && ty.value.tag === 'U8';
export const isIdentity = (ty: Ty): boolean => specialField(ty) === '__identity__';

/**
 * `op_supports_type`: bool, integers, floats, strings, bytes, Identity, ConnectionId, Timestamp and
 * Uuid — never options, other products, sums, other arrays or TimeDuration.
 */
export function comparableKind(ty: Ty): Kind | undefined {
  const int = INT_TYPES[ty.tag];
  if (int) return int.bits <= 32 ? 'small-int' : 'big-int';
  switch (ty.tag) {
    case 'Bool':
      return 'bool';
    case 'F32':
    case 'F64':
      return 'float';
    case 'String':
      return 'string';
    case 'Array':
      return isBytes(ty) ? 'bytes' : undefined;
    case 'Product': {
      const field = specialField(ty);
      return field !== undefined && field !== '__time_duration_micros__' ? 'special' : undefined;
    }
    default:
      return undefined;
  }
}

/** Structural equality (names included), as `AlgebraicType: PartialEq`; refs are resolved first. */
export function sameType(a: Ty, b: Ty, typespace: Typespace): boolean {
  const x = resolve(a, typespace);
  const y = resolve(b, typespace);
  if (x.tag !== y.tag) return false;
  switch (x.tag) {
    case 'Array':
      return sameType(x.value, (y as typeof x).value, typespace);
    case 'Product': {
      const ys = (y as typeof x).value.elements;
      return (
        x.value.elements.length === ys.length &&
        x.value.elements.every(
          (e, i) =>
            e.name === ys[i]?.name && sameType(e.algebraicType, ys[i]?.algebraicType as Ty, typespace),
        )
      );
    }
    case 'Sum': {
      const ys = (y as typeof x).value.variants;
      return (
        x.value.variants.length === ys.length &&
        x.value.variants.every(
          (v, i) =>
            v.name === ys[i]?.name && sameType(v.algebraicType, ys[i]?.algebraicType as Ty, typespace),
        )
      );
    }
    default:
      return true;
  }
}

/** SpacetimeDB's `fmt_algebraic_type`, e.g. `U32`, `Array<U8>`, `(__identity__: U256)`, `(some: U32 | none: ())`. */
export function formatType(ty: Ty, typespace: Typespace): string {
  const t = resolve(ty, typespace);
  switch (t.tag) {
    case 'Ref':
      return `&${t.value}`;
    case 'Array':
      return `Array<${formatType(t.value, typespace)}>`;
    case 'Product':
      return `(${t.value.elements
        .map((e, i) => `${e.name ?? i}: ${formatType(e.algebraicType, typespace)}`)
        .join(', ')})`;
    case 'Sum':
      if (t.value.variants.length === 0) return '(|)';
      return `(${t.value.variants
        .map((v) => `${v.name === undefined ? '' : `${v.name}: `}${formatType(v.algebraicType, typespace)}`)
        .join(' | ')})`;
    default:
      return t.tag;
  }
}
