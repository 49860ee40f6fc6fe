/**
 * Comparable column types and their values (host spec §4.2): each kind normalises a decoded row value
 * and a typed literal into one representation whose comparison is SpacetimeDB's order.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { Typespace } from '../contract.js';
import { SqlError } from './sql-error.js';

export type Kind = 'bool' | 'int' | 'float' | 'string' | 'bytes' | 'identity' | 'connection_id' | 'timestamp';
export type Value = boolean | bigint | number | string | Uint8Array;

const INT_BITS: Partial<Record<AlgebraicTypeType['tag'], { bits: number; signed: boolean }>> = {
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

export interface ColumnKind {
  readonly kind: Kind;
  /** Type name for messages, e.g. `u32`. */
  readonly typeName: string;
  readonly int?: { readonly bits: number; readonly signed: boolean };
}

export function columnKind(ty: AlgebraicTypeType, typespace: Typespace): ColumnKind | undefined {
  let t = ty;
  while (t.tag === 'Ref') t = typespace.types[t.value] ?? t;
  const int = INT_BITS[t.tag];
  if (int) return { kind: 'int', typeName: t.tag.toLowerCase(), int };
  switch (t.tag) {
    case 'Bool':
      return { kind: 'bool', typeName: 'bool' };
    case 'F32':
    case 'F64':
      return { kind: 'float', typeName: t.tag.toLowerCase() };
    case 'String':
      return { kind: 'string', typeName: 'String' };
    case 'Array':
      return t.value.tag === 'U8' ? { kind: 'bytes', typeName: 'Array<U8>' } : undefined;
    case 'Product': {
      const only = t.value.elements.length === 1 ? t.value.elements[0]?.name : undefined;
      if (only === '__identity__') return { kind: 'identity', typeName: 'Identity' };
      if (only === '__connection_id__') return { kind: 'connection_id', typeName: 'ConnectionId' };
      if (only === '__timestamp_micros_since_unix_epoch__')
        return { kind: 'timestamp', typeName: 'Timestamp' };
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A decoded row value (from the SDK's deserializer) in comparable form. */
export function normalize(kind: Kind, v: unknown): Value {
  switch (kind) {
    case 'int':
      return typeof v === 'bigint' ? v : BigInt(v as number);
    case 'identity':
      return (v as { __identity__: bigint }).__identity__;
    case 'connection_id':
      return (v as { __connection_id__: bigint }).__connection_id__;
    case 'timestamp':
      return (v as { __timestamp_micros_since_unix_epoch__: bigint }).__timestamp_micros_since_unix_epoch__;
    default:
      return v as Value;
  }
}

function hexToBigint(hex: string): bigint {
  if (hex.length === 0) return 0n;
  return BigInt(`0x${hex}`);
}

export type Literal =
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'hex'; readonly text: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'sender' };

function mismatch(col: ColumnKind, lit: Literal): SqlError {
  const got =
    lit.kind === 'sender'
      ? ':sender (Identity)'
      : lit.kind === 'bool'
        ? 'bool'
        : lit.kind === 'hex'
          ? 'hex literal'
          : lit.kind;
  return new SqlError('type', `Unexpected type: (expected) ${col.typeName} != ${got} (inferred)`);
}

/** Types a literal by the column it is compared with (`_type_expr`). */
export function typeLiteral(col: ColumnKind, lit: Literal, sender: bigint): Value {
  switch (col.kind) {
    case 'bool':
      if (lit.kind === 'bool') return lit.value;
      throw mismatch(col, lit);
    case 'int': {
      if (lit.kind !== 'number') throw mismatch(col, lit);
      const n = parseIntegerLiteral(lit.text, col);
      return n;
    }
    case 'float': {
      if (lit.kind !== 'number') throw mismatch(col, lit);
      return Number(lit.text);
    }
    case 'string':
      if (lit.kind === 'string') return lit.text;
      throw mismatch(col, lit);
    case 'identity':
    case 'connection_id': {
      if (lit.kind === 'sender' && col.kind === 'identity') return sender;
      const hex =
        lit.kind === 'hex'
          ? lit.text
          : lit.kind === 'string' && /^(0x)?[0-9a-fA-F]*$/.test(lit.text)
            ? lit.text.replace(/^0x/, '')
            : undefined;
      if (hex === undefined) throw mismatch(col, lit);
      const maxDigits = col.kind === 'identity' ? 64 : 32;
      if (hex.length > maxDigits) throw new SqlError('type', `hex literal too long for ${col.typeName}`);
      return hexToBigint(hex);
    }
    case 'timestamp': {
      if (lit.kind !== 'string') throw mismatch(col, lit);
      const ms = Date.parse(lit.text);
      if (Number.isNaN(ms)) throw new SqlError('type', `'${lit.text}' is not an RFC 3339 timestamp`);
      const frac = /\.(\d+)/.exec(lit.text)?.[1] ?? '';
      const micros = BigInt(Math.floor(ms / 1000)) * 1_000_000n + BigInt((frac + '000000').slice(0, 6));
      return micros;
    }
    case 'bytes': {
      if (lit.kind === 'sender') {
        const out = new Uint8Array(32);
        let v = sender;
        for (let i = 31; i >= 0; i--) {
          out[i] = Number(v & 0xffn);
          v >>= 8n;
        }
        return out;
      }
      if (lit.kind !== 'hex' || lit.text.length % 2 !== 0) throw mismatch(col, lit);
      return Uint8Array.from(Buffer.from(lit.text, 'hex'));
    }
  }
}

function parseIntegerLiteral(text: string, col: ColumnKind): bigint {
  let value: bigint;
  const m = /^(-?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new SqlError('type', `invalid integer literal ${text}`);
  const [, sign, int, frac = '', exp = '0'] = m;
  let digits = `${int}${frac}`;
  let scale = Number(exp) - frac.length;
  if (scale < 0) {
    const cut = digits.slice(digits.length + scale);
    if (/[^0]/.test(cut))
      throw new SqlError('type', `Unexpected type: (expected) ${col.typeName} != ${text} (not an integer)`);
    digits = digits.slice(0, digits.length + scale) || '0';
    scale = 0;
  }
  value = BigInt(digits) * 10n ** BigInt(scale);
  if (sign === '-') value = -value;
  const { bits, signed } = col.int as { bits: number; signed: boolean };
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (value < min || value > max)
    throw new SqlError('type', `literal ${text} is out of range for ${col.typeName}`);
  return value;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Strings compare by UTF-8 bytes, i.e. by code point — not by JS's UTF-16 code units. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

export function compareValues(kind: Kind, a: Value, b: Value): number {
  switch (kind) {
    case 'string':
      return compareStrings(a as string, b as string);
    case 'bytes':
      return compareBytes(a as Uint8Array, b as Uint8Array);
    case 'bool':
      return a === b ? 0 : a ? 1 : -1;
    default:
      return (a as bigint | number) < (b as bigint | number)
        ? -1
        : (a as bigint | number) > (b as bigint | number)
          ? 1
          : 0;
  }
}
