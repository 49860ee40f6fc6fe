/**
 * Walks BSATN by type without building values: finds where each column of a row starts and ends,
 * validates what a client or module hands us (the real host decodes every row and argument and
 * answers `BsatnDecodeError` on bad bytes), and turns key columns into an order-preserving string.
 *
 * Ordered keys ("memcomparable"): each value becomes a self-delimiting string of latin1 code units
 * whose plain JS string order equals SpacetimeDB's value order (ints numerically, strings by UTF-8
 * bytes, products field by field, sums by tag then payload). A multi-column key is the concatenation,
 * so a key prefix is a string prefix — that is what makes btree prefix and range scans simple.
 */
import { isUtf8 } from 'node:buffer';
import type { AlgebraicTypeType } from 'spacetimedb';
import type { Typespace } from '../contract.js';

export class BsatnError extends Error {
  override readonly name = 'BsatnError';
}

const FIXED_SIZE: Partial<Record<AlgebraicTypeType['tag'], number>> = {
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

function resolve(ty: AlgebraicTypeType, typespace: Typespace): AlgebraicTypeType {
  let current = ty;
  while (current.tag === 'Ref') {
    const next = typespace.types[current.value];
    if (!next) throw new BsatnError(`dangling type ref ${current.value}`);
    current = next;
  }
  return current;
}

function need(bytes: Uint8Array, offset: number, n: number): void {
  if (offset + n > bytes.length)
    throw new BsatnError(`unexpected end of input: needed ${n} byte(s) at ${offset}`);
}

function readU32(bytes: Uint8Array, offset: number): number {
  need(bytes, offset, 4);
  return (
    ((bytes[offset] as number) |
      ((bytes[offset + 1] as number) << 8) |
      ((bytes[offset + 2] as number) << 16)) +
    (bytes[offset + 3] as number) * 0x1000000
  );
}

/** End offset of the value of type `ty` starting at `offset`; throws BsatnError on malformed input. */
export function skipValue(
  ty: AlgebraicTypeType,
  typespace: Typespace,
  bytes: Uint8Array,
  offset: number,
): number {
  const t = resolve(ty, typespace);
  const fixed = FIXED_SIZE[t.tag];
  if (fixed !== undefined) {
    need(bytes, offset, fixed);
    if (t.tag === 'Bool' && (bytes[offset] as number) > 1)
      throw new BsatnError(`invalid bool byte ${bytes[offset]}`);
    return offset + fixed;
  }
  switch (t.tag) {
    case 'String': {
      const len = readU32(bytes, offset);
      need(bytes, offset + 4, len);
      if (!isUtf8(bytes.subarray(offset + 4, offset + 4 + len)))
        throw new BsatnError('string is not valid UTF-8');
      return offset + 4 + len;
    }
    case 'Array': {
      const n = readU32(bytes, offset);
      let at = offset + 4;
      const elem = resolve(t.value, typespace);
      const elemSize = FIXED_SIZE[elem.tag];
      if (elemSize !== undefined && elem.tag !== 'Bool') {
        need(bytes, at, n * elemSize);
        return at + n * elemSize;
      }
      for (let i = 0; i < n; i++) at = skipValue(elem, typespace, bytes, at);
      return at;
    }
    case 'Product': {
      let at = offset;
      for (const el of t.value.elements) at = skipValue(el.algebraicType, typespace, bytes, at);
      return at;
    }
    case 'Sum': {
      need(bytes, offset, 1);
      const tag = bytes[offset] as number;
      const variant = t.value.variants[tag];
      if (!variant) throw new BsatnError(`invalid sum tag ${tag} (${t.value.variants.length} variants)`);
      return skipValue(variant.algebraicType, typespace, bytes, offset + 1);
    }
    default:
      throw new BsatnError(`unsupported type ${t.tag}`);
  }
}

/** Checks that `bytes` is exactly one value of `ty`. */
export function validateExact(ty: AlgebraicTypeType, typespace: Typespace, bytes: Uint8Array): void {
  const end = skipValue(ty, typespace, bytes, 0);
  if (end !== bytes.length) throw new BsatnError(`${bytes.length - end} trailing byte(s)`);
}

/** Offsets of each column's start plus the row's end: `bounds[i]..bounds[i+1]` is column i. */
export function columnBounds(rowType: AlgebraicTypeType, typespace: Typespace, row: Uint8Array): number[] {
  if (rowType.tag !== 'Product') throw new BsatnError('row type is not a product');
  const bounds = [0];
  let at = 0;
  for (const el of rowType.value.elements) {
    at = skipValue(el.algebraicType, typespace, row, at);
    bounds.push(at);
  }
  if (at !== row.length) throw new BsatnError(`${row.length - at} trailing byte(s) after the row`);
  return bounds;
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

// ---- ordered keys ----

class KeyBuilder {
  private readonly codes: number[] = [];
  push(byte: number): void {
    this.codes.push(byte);
  }
  /** Big-endian copy of little-endian bytes, with the sign bit flipped for signed ints. */
  pushIntLE(bytes: Uint8Array, start: number, size: number, signed: boolean): void {
    for (let i = size - 1; i >= 0; i--) {
      const b = bytes[start + i] as number;
      this.codes.push(i === size - 1 && signed ? b ^ 0x80 : b);
    }
  }
  toString(): string {
    let out = '';
    for (let i = 0; i < this.codes.length; i += 8192)
      out += String.fromCharCode(...this.codes.slice(i, i + 8192));
    return out;
  }
}

function pushFloat(kb: KeyBuilder, bytes: Uint8Array, start: number, size: number): void {
  // IEEE 754 total order: flip all bits of negatives, only the sign bit of positives.
  const negative = ((bytes[start + size - 1] as number) & 0x80) !== 0;
  for (let i = size - 1; i >= 0; i--) {
    const b = bytes[start + i] as number;
    kb.push(negative ? b ^ 0xff : i === size - 1 ? b ^ 0x80 : b);
  }
}

/** Byte strings: 0x00 escaped as 00 FF, terminated by 00 01, so shorter prefixes sort first. */
function pushEscaped(kb: KeyBuilder, bytes: Uint8Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    kb.push(b);
    if (b === 0) kb.push(0xff);
  }
  kb.push(0);
  kb.push(1);
}

function encodeValue(
  kb: KeyBuilder,
  ty: AlgebraicTypeType,
  typespace: Typespace,
  bytes: Uint8Array,
  offset: number,
): number {
  const t = resolve(ty, typespace);
  switch (t.tag) {
    case 'Bool':
    case 'U8':
      need(bytes, offset, 1);
      kb.push(bytes[offset] as number);
      return offset + 1;
    case 'I8':
      need(bytes, offset, 1);
      kb.push((bytes[offset] as number) ^ 0x80);
      return offset + 1;
    case 'U16':
    case 'U32':
    case 'U64':
    case 'U128':
    case 'U256':
    case 'I16':
    case 'I32':
    case 'I64':
    case 'I128':
    case 'I256': {
      const size = FIXED_SIZE[t.tag] as number;
      need(bytes, offset, size);
      kb.pushIntLE(bytes, offset, size, t.tag.startsWith('I'));
      return offset + size;
    }
    case 'F32':
    case 'F64': {
      const size = FIXED_SIZE[t.tag] as number;
      need(bytes, offset, size);
      pushFloat(kb, bytes, offset, size);
      return offset + size;
    }
    case 'String': {
      const end = skipValue(t, typespace, bytes, offset);
      pushEscaped(kb, bytes, offset + 4, end);
      return end;
    }
    case 'Array': {
      const n = readU32(bytes, offset);
      let at = offset + 4;
      for (let i = 0; i < n; i++) {
        kb.push(1);
        at = encodeValue(kb, t.value, typespace, bytes, at);
      }
      kb.push(0);
      return at;
    }
    case 'Product': {
      let at = offset;
      for (const el of t.value.elements) at = encodeValue(kb, el.algebraicType, typespace, bytes, at);
      return at;
    }
    case 'Sum': {
      need(bytes, offset, 1);
      const tag = bytes[offset] as number;
      const variant = t.value.variants[tag];
      if (!variant) throw new BsatnError(`invalid sum tag ${tag}`);
      kb.push(tag);
      return encodeValue(kb, variant.algebraicType, typespace, bytes, offset + 1);
    }
    default:
      throw new BsatnError(`unsupported type ${t.tag}`);
  }
}

/**
 * Ordered key of consecutive BSATN values of `types` read from `bytes` at `offset`.
 * Returns the key and the offset after the last value.
 */
export function orderedKey(
  types: readonly AlgebraicTypeType[],
  typespace: Typespace,
  bytes: Uint8Array,
  offset = 0,
): { key: string; end: number } {
  const kb = new KeyBuilder();
  let at = offset;
  for (const ty of types) at = encodeValue(kb, ty, typespace, bytes, at);
  return { key: kb.toString(), end: at };
}

/** Latin1 view of raw bytes: a cheap exact-match map key. */
export function bytesKey(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}
