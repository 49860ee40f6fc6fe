import { describe, expect, it } from 'vitest';
import { callerOfStClientRow, oneRowArray, stClientRow } from './st-client.js';

describe('st_client rows', () => {
  it('encode (identity u256, connection_id u128) little-endian and decode back, at the extremes', () => {
    for (const caller of [
      { identity: 0n, connectionId: 0n },
      { identity: 2n ** 256n - 1n, connectionId: 2n ** 128n - 1n },
      { identity: 0x0102n, connectionId: 0x0304n },
    ]) {
      const row = stClientRow(caller);
      expect(row).toHaveLength(48);
      expect(callerOfStClientRow(row)).toEqual(caller);
    }
    const row = stClientRow({ identity: 0x0102n, connectionId: 0x0304n });
    expect([row[0], row[1], row[32], row[33]]).toEqual([2, 1, 4, 3]);
  });

  it('wrap one row as a BSATN array of length 1 (u32 count, then the row)', () => {
    const row = new Uint8Array([9, 8, 7]);
    expect([...oneRowArray(row)]).toEqual([1, 0, 0, 0, 9, 8, 7]);
  });
});
