/**
 * Walks BSATN by type without building values: finds where each column of a row starts and ends,
 * validates what a client or module hands us (the real host decodes every row and argument and
 * answers `BsatnDecodeError` on bad bytes). Key columns become order-preserving strings in
 * ordered-key.ts.
 */
import { isUtf8 } from 'node:buffer';
import type { AlgebraicTypeType } from 'spacetimedb';
import type { Typespace } from '../contract.js';

export class BsatnError extends Error {
  override readonly name = 'BsatnError';
}

export const FIXED_SIZE: Partial<Record<AlgebraicTypeType['tag'], number>> = {
  Bool: 1,
  I8: 1,
  U8: 1,
  I16: 2,
  U16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
  I128: 16,
  U128: 16,
  I256: 32,
  U256: 32,
};

export function fixedSizeOf(ty: AlgebraicTypeType): number | undefined {
  return FIXED_SIZE[ty.tag];
}

export function resolve(ty: AlgebraicTypeType, typespace: Typespace): AlgebraicTypeType {
  let current = ty;
  while (current.tag === 'Ref') {
    const next = typespace.types[current.value];
    if (!next) throw new BsatnError(`dangling type ref ${current.value}`);
    current = next;
  }
  return current;
}

export function need(bytes: Uint8Array, offset: number, n: number): void {
  if (offset + n > bytes.length)
    throw new BsatnError(`unexpected end of input: needed ${n} byte(s) at ${offset}`);
}

export function readU32(bytes: Uint8Array, offset: number): number {
  need(bytes, offset, 4);
  return (
    ((bytes[offset] as number) |
      ((bytes[offset + 1] as number) << 8) |
      ((bytes[offset + 2] as number) << 16)) +
    (bytes[offset + 3] as number) * 0x1000000
  );
}

/** End of the BSATN string at `offset`, its bytes checked to be UTF-8 (as the real host's decode does). */
export function skipString(bytes: Uint8Array, offset: number): number {
  const len = readU32(bytes, offset);
  const start = offset + 4;
  need(bytes, start, len);
  const end = start + len;
  // Names and keys are mostly ASCII: a byte loop is cheaper than a subarray and a native call for them.
  let i = start;
  while (i < end && (bytes[i] as number) < 0x80) i++;
  if (i < end && !isUtf8(bytes.subarray(i, end))) throw new BsatnError('string is not valid UTF-8');
  return end;
}

// ---- compiled walkers ----
//
// A row type is walked for every row written (its column bounds) and every index key built, so each
// type is turned once into a closure that knows its shape: no ref resolution, tag switch or size
// lookup per value. Compiled lazily per (typespace, type object), recursion-safe: a type reached again
// while it is being compiled gets a stub that calls the finished closure. A type that cannot be walked
// (a dangling ref, an unsupported tag) throws when a value of it is met, as the interpreter did.

export type Skip = (bytes: Uint8Array, offset: number) => number;

export function compiler<F>(
  /** Gets the type already resolved: a ref that resolves to nothing compiles to a function that throws. */
  build: (ty: AlgebraicTypeType, typespace: Typespace) => F,
  stub: (get: () => F) => F,
) {
  const caches = new WeakMap<Typespace, WeakMap<AlgebraicTypeType, F>>();
  return (ty: AlgebraicTypeType, typespace: Typespace): F => {
    let cache = caches.get(typespace);
    if (!cache) {
      cache = new WeakMap();
      caches.set(typespace, cache);
    }
    const hit = cache.get(ty);
    if (hit) return hit;
    let built: F | undefined;
    cache.set(
      ty,
      stub(() => built as F),
    );
    let resolved: AlgebraicTypeType | undefined;
    try {
      resolved = resolve(ty, typespace);
    } catch (e) {
      built = (() => thrower(e)) as unknown as F;
    }
    if (resolved) built = build(resolved, typespace);
    cache.set(ty, built as F);
    return built as F;
  };
}

export function thrower(e: unknown): never {
  throw e;
}

const compileSkip: (ty: AlgebraicTypeType, typespace: Typespace) => Skip = compiler<Skip>(
  (t, typespace) => {
    const fixed = FIXED_SIZE[t.tag];
    if (t.tag === 'Bool') {
      return (bytes, offset) => {
        need(bytes, offset, 1);
        if ((bytes[offset] as number) > 1) throw new BsatnError(`invalid bool byte ${bytes[offset]}`);
        return offset + 1;
      };
    }
    if (fixed !== undefined) {
      return (bytes, offset) => {
        need(bytes, offset, fixed);
        return offset + fixed;
      };
    }
    switch (t.tag) {
      case 'String':
        return skipString;
      case 'Array': {
        const elemType = t.value;
        let elem: AlgebraicTypeType | undefined;
        try {
          elem = resolve(elemType, typespace);
        } catch {
          elem = undefined;
        }
        const elemSize = elem ? FIXED_SIZE[elem.tag] : undefined;
        if (elem && elemSize !== undefined && elem.tag !== 'Bool') {
          return (bytes, offset) => {
            const n = readU32(bytes, offset);
            need(bytes, offset + 4, n * elemSize);
            return offset + 4 + n * elemSize;
          };
        }
        const skipElem = compileSkip(elemType, typespace);
        return (bytes, offset) => {
          const n = readU32(bytes, offset);
          let at = offset + 4;
          for (let i = 0; i < n; i++) at = skipElem(bytes, at);
          return at;
        };
      }
      case 'Product': {
        const fields = t.value.elements.map((el) => compileSkip(el.algebraicType, typespace));
        return (bytes, offset) => {
          let at = offset;
          for (let i = 0; i < fields.length; i++) at = (fields[i] as Skip)(bytes, at);
          return at;
        };
      }
      case 'Sum': {
        const variants = t.value.variants.map((v) => compileSkip(v.algebraicType, typespace));
        return (bytes, offset) => {
          need(bytes, offset, 1);
          const tag = bytes[offset] as number;
          const variant = variants[tag];
          if (!variant) throw new BsatnError(`invalid sum tag ${tag} (${variants.length} variants)`);
          return variant(bytes, offset + 1);
        };
      }
      default: {
        const tag = t.tag;
        return () => thrower(new BsatnError(`unsupported type ${tag}`));
      }
    }
  },
  (get) => (bytes, offset) => get()(bytes, offset),
);

/** End offset of the value of type `ty` starting at `offset`; throws BsatnError on malformed input. */
export function skipValue(
  ty: AlgebraicTypeType,
  typespace: Typespace,
  bytes: Uint8Array,
  offset: number,
): number {
  return compileSkip(ty, typespace)(bytes, offset);
}

/** Checks that `bytes` is exactly one value of `ty`. */
export function validateExact(ty: AlgebraicTypeType, typespace: Typespace, bytes: Uint8Array): void {
  const end = skipValue(ty, typespace, bytes, 0);
  if (end !== bytes.length) throw new BsatnError(`${bytes.length - end} trailing byte(s)`);
}

/** Offsets of each column's start plus the row's end, for rows of one product type. */
export type RowBounds = (row: Uint8Array) => number[];

const compileBounds = compiler<RowBounds>(
  (rowType, typespace) => {
    if (rowType.tag !== 'Product') return () => thrower(new BsatnError('row type is not a product'));
    const columns = rowType.value.elements.map((el) => compileSkip(el.algebraicType, typespace));
    return (row) => {
      const bounds = new Array<number>(columns.length + 1);
      bounds[0] = 0;
      let at = 0;
      for (let i = 0; i < columns.length; i++) {
        at = (columns[i] as Skip)(row, at);
        bounds[i + 1] = at;
      }
      if (at !== row.length) throw new BsatnError(`${row.length - at} trailing byte(s) after the row`);
      return bounds;
    };
  },
  (get) => (row) => get()(row),
);

/** The compiled `columnBounds` of one row type (what a table keeps for its rows). */
export function rowBounds(rowType: AlgebraicTypeType, typespace: Typespace): RowBounds {
  return compileBounds(rowType, typespace);
}

/** Offsets of each column's start plus the row's end: `bounds[i]..bounds[i+1]` is column i. */
export function columnBounds(rowType: AlgebraicTypeType, typespace: Typespace, row: Uint8Array): number[] {
  return compileBounds(rowType, typespace)(row);
}

/**
 * Where column `col` of a row starts and ends, reading only the columns before it: for checks that
 * look at one leading column of wide rows (row-level-security join keys).
 */
export function columnSpan(
  rowType: AlgebraicTypeType,
  typespace: Typespace,
  row: Uint8Array,
  col: number,
): [number, number] {
  if (rowType.tag !== 'Product') throw new BsatnError('row type is not a product');
  const elements = rowType.value.elements;
  if (col < 0 || col >= elements.length) throw new BsatnError(`no column ${col} in the row type`);
  let at = 0;
  for (let i = 0; i < col; i++)
    at = skipValue((elements[i] as (typeof elements)[number]).algebraicType, typespace, row, at);
  return [at, skipValue((elements[col] as (typeof elements)[number]).algebraicType, typespace, row, at)];
}

/** Latin1 view of raw bytes: a cheap exact-match map key. */
export function bytesKey(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}
