import { describe, expect, it } from 'vitest';
import { identityFromClaims, identityFromHex, identityToHex } from './identity.js';

describe('identityFromClaims', () => {
  // Printed by SpacetimeDB's own `spacetimedb_lib::Identity::from_claims` (crate spacetimedb-lib 2.8.0).
  it.each([
    ['localhost', 'alice', 'c20035600353a2e93544d898c6ed0eac323e200c0468300f22958f8b472a265d'],
    ['localhost', 'bob', 'c200e63a6bd07da2304dd6f5b4691d3338562ceaa43cad4624d0d181a7a6c0d4'],
    [
      'https://auth.example.com',
      '7f3c2a1e-0000-4000-8000-000000000001',
      'c200e6351c6642d383f0ac73ce21ba138720d6461d9ecd3fc38ee6e353a3c854',
    ],
  ])('derives SpacetimeDB identity for %s | %s', (iss, sub, hex) => {
    expect(identityToHex(identityFromClaims(iss, sub))).toBe(hex);
  });

  it('round-trips the hex form and rejects anything but 64 hex digits', () => {
    const id = identityFromClaims('localhost', 'carol');
    expect(identityFromHex(identityToHex(id))).toBe(id);
    expect(identityFromHex('c200')).toBeUndefined();
    expect(identityFromHex(`0x${identityToHex(id).slice(2)}`)).toBeUndefined();
  });
});
