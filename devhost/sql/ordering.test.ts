import { Identity, Timestamp } from 'spacetimedb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleSchema } from '../contract.js';
import { compileQuery } from './index.js';
import { loadSchema, SQL_MODULE, sampleRow } from './testing/schema.js';

let schema: ModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(SQL_MODULE);
});

const sample = (fields: Record<string, unknown>) => sampleRow(schema, fields);

const where = (condition: string, row: Uint8Array) => {
  const [q] = compileQuery(`SELECT * FROM sample WHERE ${condition}`, schema, { sender: 0n, isOwner: false });
  if (!q) throw new Error('no fragment');
  return q.matches(row);
};

describe('string order is UTF-8 byte order', () => {
  it('puts astral characters above U+E000–U+FFFF, unlike UTF-16 code units', () => {
    // U+FF61 is 0xFF61 in UTF-16 but 😀 starts with the surrogate 0xD83D: JS `<` gets these backwards.
    expect('😀' < '｡').toBe(true);
    expect(where(`label < '😀'`, sample({ label: '｡' }))).toBe(true);
    expect(where(`label > '｡'`, sample({ label: '😀' }))).toBe(true);
    expect(where(`label < 'ｰ'`, sample({ label: '\uE000' }))).toBe(true);
  });

  it('orders by bytes, not by locale or case', () => {
    expect(where(`label < 'a'`, sample({ label: 'B' }))).toBe(true);
    expect(where(`label > 'z'`, sample({ label: 'é' }))).toBe(true);
    expect(where(`label < 'abc'`, sample({ label: 'ab' }))).toBe(true);
    expect(where(`label > ''`, sample({ label: '\u0000' }))).toBe(true);
    expect(where('label < other', sample({ label: 'ä', other: 'ö' }))).toBe(true);
  });
});

describe('float order is decorum’s total order', () => {
  it('puts NaN above +∞ and equal to itself', () => {
    const nan = sample({ realF64: Number.NaN });
    expect(where('real_f_64 > 1e308', nan)).toBe(true);
    expect(where('real_f_64 = 1e400', nan)).toBe(false);
    expect(where('real_f_64 > 1e400', nan)).toBe(true);
    expect(where('real_f_64 = real_f_64', nan)).toBe(true);
    expect(where('real_f_64 < 0', nan)).toBe(false);
    expect(where('real_f_32 > 1e38', sample({ realF32: Number.NaN }))).toBe(true);
  });

  it('treats -0 and +0 as equal and orders infinities at the ends', () => {
    expect(where('real_f_64 = 0', sample({ realF64: -0 }))).toBe(true);
    expect(where('real_f_64 < 0', sample({ realF64: -0 }))).toBe(false);
    expect(where('real_f_64 = 1e400', sample({ realF64: Number.POSITIVE_INFINITY }))).toBe(true);
    expect(where('real_f_64 < -1e308', sample({ realF64: Number.NEGATIVE_INFINITY }))).toBe(true);
  });
});

describe('numeric order of wide and special types', () => {
  it('compares 64–256-bit integers exactly, beyond float precision', () => {
    const big = 2n ** 64n + 1n;
    expect(where(`big_u_128 > ${2n ** 64n}`, sample({ bigU128: big }))).toBe(true);
    expect(where(`big_i_256 < ${-(2n ** 200n)}`, sample({ bigI256: -(2n ** 200n) - 1n }))).toBe(true);
    expect(where('big_i_64 = 9007199254740993', sample({ bigI64: 9007199254740993n }))).toBe(true);
    expect(where('big_i_64 = 9007199254740992', sample({ bigI64: 9007199254740993n }))).toBe(false);
  });

  it('orders Identity, ConnectionId, Uuid and Timestamp by their numeric value', () => {
    const high = `0x8${'0'.repeat(63)}`;
    expect(where(`who < ${high}`, sample({ who: new Identity(2n ** 255n - 1n) }))).toBe(true);
    expect(where(`who > ${high}`, sample({ who: new Identity(2n ** 255n + 1n) }))).toBe(true);
    expect(where(`conn > 0x${'0'.repeat(31)}1`, sample({ conn: { __connection_id__: 2n } }))).toBe(true);
    expect(where(`uid < 0x${'f'.repeat(32)}`, sample({ uid: { __uuid__: 5n } }))).toBe(true);
    expect(where(`created_at < '1970-01-01T00:00:00Z'`, sample({ createdAt: new Timestamp(-1n) }))).toBe(
      true,
    );
  });

  it('orders bytes lexicographically, a prefix first', () => {
    expect(where('payload < 0x0200', sample({ payload: Uint8Array.of(1, 255, 255) }))).toBe(true);
    expect(where('payload > 0x01', sample({ payload: Uint8Array.of(1, 0) }))).toBe(true);
    expect(where('payload >= 0x', sample({ payload: new Uint8Array() }))).toBe(true);
  });
});
