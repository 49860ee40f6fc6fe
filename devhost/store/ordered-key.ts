/**
 * Ordered keys ("memcomparable") of BSATN values: each value becomes a self-delimiting string of
 * latin1 code units whose plain JS string order equals SpacetimeDB's value order (ints numerically,
 * strings by UTF-8 bytes, products field by field, sums by tag then payload). A multi-column key is
 * the concatenation, so a key prefix is a string prefix — that is what makes btree prefix and range
 * scans simple. Each type is compiled once into a writer (see bsatn-layout.ts, "compiled walkers").
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { Typespace } from '../contract.js';
import { BsatnError, compiler, FIXED_SIZE, need, readU32, skipString, thrower } from './bsatn-layout.js';

type KeyWrite = (bytes: Uint8Array, offset: number, out: KeyBytes) => number;

/**
 * The bytes of the key being built, reused from key to key (keys are built one at a time and taken
 * as a latin1 string at the end: one native decode instead of a string per byte).
 */
export class KeyBytes {
  private buf = Buffer.allocUnsafe(256);
  private len = 0;
  reset(): this {
    this.len = 0;
    return this;
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }
  push(byte: number): void {
    this.room(1);
    this.buf[this.len++] = byte;
  }
  /** Big-endian copy of little-endian bytes, with the sign bit flipped for signed ints. */
  pushIntLE(bytes: Uint8Array, start: number, size: number, signed: boolean): void {
    this.room(size);
    const buf = this.buf;
    let at = this.len;
    buf[at++] = signed ? (bytes[start + size - 1] as number) ^ 0x80 : (bytes[start + size - 1] as number);
    for (let i = size - 2; i >= 0; i--) buf[at++] = bytes[start + i] as number;
    this.len = at;
  }
  /** Byte strings: 0x00 escaped as 00 FF, terminated by 00 01, so shorter prefixes sort first. */
  pushEscaped(bytes: Uint8Array, start: number, end: number): void {
    this.room(2 * (end - start) + 2);
    const buf = this.buf;
    let at = this.len;
    for (let i = start; i < end; i++) {
      const b = bytes[i] as number;
      buf[at++] = b;
      if (b === 0) buf[at++] = 0xff;
    }
    buf[at++] = 0;
    buf[at++] = 1;
    this.len = at;
  }
  /** A 48-bit number big-endian: the pointer suffix that keeps btree entries unique in key order. */
  pushU48(n: number): void {
    this.room(6);
    const hi = Math.floor(n / 0x1000000);
    const buf = this.buf;
    let at = this.len;
    buf[at++] = (hi >>> 16) & 0xff;
    buf[at++] = (hi >>> 8) & 0xff;
    buf[at++] = hi & 0xff;
    buf[at++] = (n >>> 16) & 0xff;
    buf[at++] = (n >>> 8) & 0xff;
    buf[at++] = n & 0xff;
    this.len = at;
  }
  toString(): string {
    return this.buf.toString('latin1', 0, this.len);
  }
}

function pushFloat(kb: KeyBytes, bytes: Uint8Array, start: number, size: number): void {
  // IEEE 754 total order: flip all bits of negatives, only the sign bit of positives.
  const negative = ((bytes[start + size - 1] as number) & 0x80) !== 0;
  for (let i = size - 1; i >= 0; i--) {
    const b = bytes[start + i] as number;
    kb.push(negative ? b ^ 0xff : i === size - 1 ? b ^ 0x80 : b);
  }
}

const compileKey: (ty: AlgebraicTypeType, typespace: Typespace) => KeyWrite = compiler<KeyWrite>(
  (t, typespace) => {
    switch (t.tag) {
      case 'Bool':
      case 'U8':
        return (bytes, offset, kb) => {
          need(bytes, offset, 1);
          kb.push(bytes[offset] as number);
          return offset + 1;
        };
      case 'I8':
        return (bytes, offset, kb) => {
          need(bytes, offset, 1);
          kb.push((bytes[offset] as number) ^ 0x80);
          return offset + 1;
        };
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
        const signed = t.tag.startsWith('I');
        return (bytes, offset, kb) => {
          need(bytes, offset, size);
          kb.pushIntLE(bytes, offset, size, signed);
          return offset + size;
        };
      }
      case 'F32':
      case 'F64': {
        const size = FIXED_SIZE[t.tag] as number;
        return (bytes, offset, kb) => {
          need(bytes, offset, size);
          pushFloat(kb, bytes, offset, size);
          return offset + size;
        };
      }
      case 'String':
        return (bytes, offset, kb) => {
          const end = skipString(bytes, offset);
          kb.pushEscaped(bytes, offset + 4, end);
          return end;
        };
      case 'Array': {
        const elem = compileKey(t.value, typespace);
        return (bytes, offset, kb) => {
          const n = readU32(bytes, offset);
          let at = offset + 4;
          for (let i = 0; i < n; i++) {
            kb.push(1);
            at = elem(bytes, at, kb);
          }
          kb.push(0);
          return at;
        };
      }
      case 'Product': {
        const fields = t.value.elements.map((el) => compileKey(el.algebraicType, typespace));
        return (bytes, offset, kb) => {
          let at = offset;
          for (let i = 0; i < fields.length; i++) at = (fields[i] as KeyWrite)(bytes, at, kb);
          return at;
        };
      }
      case 'Sum': {
        const variants = t.value.variants.map((v) => compileKey(v.algebraicType, typespace));
        return (bytes, offset, kb) => {
          need(bytes, offset, 1);
          const tag = bytes[offset] as number;
          const variant = variants[tag];
          if (!variant) throw new BsatnError(`invalid sum tag ${tag}`);
          kb.push(tag);
          return variant(bytes, offset + 1, kb);
        };
      }
      default: {
        const tag = t.tag;
        return () => thrower(new BsatnError(`unsupported type ${tag}`));
      }
    }
  },
  (get) => (bytes, offset, kb) => get()(bytes, offset, kb),
);

/** Appends the ordered key of one value of `ty` at `offset` to `out`; returns the offset after it. */
export type KeyWriter = KeyWrite;

export function keyWriter(ty: AlgebraicTypeType, typespace: Typespace): KeyWriter {
  return compileKey(ty, typespace);
}

const scratch = new KeyBytes();

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
  const kb = scratch.reset();
  let at = offset;
  for (const ty of types) at = compileKey(ty, typespace)(bytes, at, kb);
  return { key: kb.toString(), end: at };
}
