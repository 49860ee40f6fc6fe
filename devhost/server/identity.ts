/**
 * SpacetimeDB identities as the real server derives them from JWT claims
 * (`crates/lib/src/identity.rs::Identity::from_claims`): a client that reconnects with its token
 * gets the identity a real server would give it, and tokens minted here name that identity in
 * `hex_identity` exactly as SpacetimeDB's do.
 */
import { blake3 } from '@noble/hashes/blake3.js';

const ID_HASH_LEN = 26;
const CHECKSUM_LEN = 4;
/** Leading bytes of every claims-derived identity ("c200" in its hex form). */
const PREFIX = [0xc2, 0x00] as const;

/** `Identity::from_claims(issuer, subject)` as a u256 (the value the wire and modules carry). */
export function identityFromClaims(issuer: string, subject: string): bigint {
  const idHash = blake3(new TextEncoder().encode(`${issuer}|${subject}`)).subarray(0, ID_HASH_LEN);
  const checksumInput = new Uint8Array(2 + ID_HASH_LEN);
  checksumInput.set(PREFIX, 0);
  checksumInput.set(idHash, 2);
  const checksum = blake3(checksumInput).subarray(0, CHECKSUM_LEN);
  // Big-endian: the prefix is the most significant end, so the hex form starts with `c200`.
  const bytesBe = new Uint8Array(32);
  bytesBe.set(PREFIX, 0);
  bytesBe.set(checksum, 2);
  bytesBe.set(idHash, 2 + CHECKSUM_LEN);
  return BigInt(`0x${Buffer.from(bytesBe).toString('hex')}`);
}

/** SpacetimeDB's identity hex: 64 lowercase digits, big-endian, no `0x` (`Identity::to_hex`). */
export function identityToHex(identity: bigint): string {
  return identity.toString(16).padStart(64, '0');
}

/** Parses `hex_identity` / URL identities; undefined unless exactly 64 hex digits. */
export function identityFromHex(hex: string): bigint | undefined {
  return /^[0-9a-fA-F]{64}$/.test(hex) ? BigInt(`0x${hex}`) : undefined;
}
