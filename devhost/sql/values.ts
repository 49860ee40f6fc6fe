/**
 * Comparable values and SpacetimeDB's order on them (`AlgebraicValue: Ord`): integers numerically,
 * floats by decorum's total order (every NaN equal and above +∞, -0 equal to +0), strings by UTF-8
 * bytes, bytes lexicographically, false < true, and Identity/ConnectionId/Timestamp/Uuid by their one
 * numeric field.
 */
import type { Kind } from './types.js';

export type Value = boolean | number | bigint | string | Uint8Array;

/** Decorum's `FloatOrd`: -∞ < … < -0 = +0 < … < +∞ < NaN (all NaNs equal). */
function compareFloats(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * UTF-8 byte order is code point order. UTF-16 code units agree with it except that surrogates
 * (U+D800–DFFF, which encode code points above U+FFFF) must sort above U+E000–FFFF.
 */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Three-way comparison of two values of the same comparable type. */
export function compareValues(kind: Kind, a: Value, b: Value): number {
  switch (kind) {
    case 'float':
      return compareFloats(a as number, b as number);
    case 'string':
      return compareStrings(a as string, b as string);
    case 'bytes':
      return compareBytes(a as Uint8Array, b as Uint8Array);
    case 'bool':
      return a === b ? 0 : a ? 1 : -1;
    default:
      return a < b ? -1 : a > b ? 1 : 0;
  }
}
