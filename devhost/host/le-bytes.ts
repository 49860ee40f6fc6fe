/** Unsigned little-endian integers of any width, as BSATN lays out u128/u256 and friends. */
import { randomBytes } from 'node:crypto';

export function writeLe(value: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = value;
  for (let i = 0; i < bytes; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function readLe(bytes: Uint8Array, start: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[start + i] as number);
  return v;
}

/** A fresh random identity (database identity, owner when none is given). */
export function randomU256(): bigint {
  return readLe(randomBytes(32), 0, 32);
}
