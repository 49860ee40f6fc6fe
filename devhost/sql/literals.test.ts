import { ConnectionId, Identity, Timestamp, Uuid } from 'spacetimedb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleSchema } from '../contract.js';
import { compileQuery, type SqlAuth, SqlError } from './index.js';
import { loadSchema, SQL_MODULE, sampleRow } from './testing/schema.js';

let schema: ModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(SQL_MODULE);
});

const SENDER = 0x1234n;
const auth: SqlAuth = { sender: SENDER, isOwner: false };

const sample = (fields: Record<string, unknown>) => sampleRow(schema, fields);

/** Whether `SELECT * FROM sample WHERE <where>` returns the row. */
const where = (condition: string, row: Uint8Array) => {
  const [q] = compileQuery(`SELECT * FROM sample WHERE ${condition}`, schema, auth);
  if (!q) throw new Error('no fragment');
  return q.matches(row);
};

function refusal(condition: string): SqlError {
  try {
    compileQuery(`SELECT * FROM sample WHERE ${condition}`, schema, auth);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`accepted: ${condition}`);
}

describe('integer literals', () => {
  const widths: [string, string, bigint, bigint][] = [
    ['small_i_8', 'smallI8', -128n, 127n],
    ['small_u_8', 'smallU8', 0n, 255n],
    ['small_i_16', 'smallI16', -32768n, 32767n],
    ['small_u_16', 'smallU16', 0n, 65535n],
    ['small_i_32', 'smallI32', -(2n ** 31n), 2n ** 31n - 1n],
    ['small_u_32', 'smallU32', 0n, 2n ** 32n - 1n],
    ['big_i_64', 'bigI64', -(2n ** 63n), 2n ** 63n - 1n],
    ['big_u_64', 'bigU64', 0n, 2n ** 64n - 1n],
    ['big_i_128', 'bigI128', -(2n ** 127n), 2n ** 127n - 1n],
    ['big_u_128', 'bigU128', 0n, 2n ** 128n - 1n],
    ['big_i_256', 'bigI256', -(2n ** 255n), 2n ** 255n - 1n],
    ['big_u_256', 'bigU256', 0n, 2n ** 256n - 1n],
  ];
  it.each(widths)('%s accepts exactly its range', (column, accessor, min, max) => {
    const value = (v: bigint) => (accessor.startsWith('small') ? Number(v) : v);
    for (const bound of [min, max]) {
      const row = sample({ [accessor]: value(bound) });
      expect(where(`${column} = ${bound}`, row)).toBe(true);
      expect(where(`${column} <> ${bound}`, row)).toBe(false);
    }
    expect(where(`${column} < ${max}`, sample({ [accessor]: value(min) }))).toBe(true);
    for (const outside of [min - 1n, max + 1n]) {
      const e = refusal(`${column} = ${outside}`);
      expect(e.kind).toBe('type');
      expect(e.message).toMatch(/cannot be parsed as type .*out of bounds/);
    }
  });

  it('takes scientific notation, integral decimals, signs, and numeric strings', () => {
    expect(where('big_u_64 = 1e3', sample({ bigU64: 1000n }))).toBe(true);
    expect(where('small_u_32 = 1.0', sample({ smallU32: 1 }))).toBe(true);
    expect(where('small_i_32 = -1.5e1', sample({ smallI32: -15 }))).toBe(true);
    expect(where('small_i_8 = +5', sample({ smallI8: 5 }))).toBe(true);
    expect(where('small_i_8 = - 5', sample({ smallI8: -5 }))).toBe(true);
    expect(where(`small_u_32 = '42'`, sample({ smallU32: 42 }))).toBe(true);
    expect(where('big_u_256 = 0e99999', sample({ bigU256: 0n }))).toBe(true);
    expect(refusal('small_u_32 = 1.5').message).toBe(
      'The literal expression `1.5` cannot be parsed as type `U32` (1.5 is not an integer)',
    );
    expect(refusal(`small_u_32 = 'forty'`).kind).toBe('type');
    expect(refusal('big_u_256 = 1e100').message).toMatch(/out of bounds for type U256/);
  });
});

describe('float literals', () => {
  it('rounds to f32 for F32 columns, so a stored 0.1f32 equals 0.1', () => {
    expect(where('real_f_32 = 0.1', sample({ realF32: 0.1 }))).toBe(true);
    expect(where('real_f_64 = 0.1', sample({ realF64: 0.1 }))).toBe(true);
    expect(where('real_f_64 = 0.1', sample({ realF64: Math.fround(0.1) }))).toBe(false);
  });

  it('accepts integers, exponents and numeric strings; -0 equals 0', () => {
    expect(where('real_f_64 = 2', sample({ realF64: 2 }))).toBe(true);
    expect(where('real_f_64 = 1e-3', sample({ realF64: 0.001 }))).toBe(true);
    expect(where(`real_f_64 = '2.5'`, sample({ realF64: 2.5 }))).toBe(true);
    expect(where('real_f_64 = -0.0', sample({ realF64: 0 }))).toBe(true);
    expect(where('real_f_64 = 0', sample({ realF64: -0 }))).toBe(true);
    expect(where('real_f_64 > -1.5', sample({ realF64: -1 }))).toBe(true);
    expect(refusal(`real_f_64 = 'NaN'`).message).toMatch(/cannot be parsed as type `F64`/);
  });
});

describe('string and bool literals', () => {
  it('compares strings, with doubled quotes and any Unicode', () => {
    expect(where(`label = 'it''s'`, sample({ label: "it's" }))).toBe(true);
    expect(where(`label = ''`, sample({ label: '' }))).toBe(true);
    expect(where(`label = '日本 😀'`, sample({ label: '日本 😀' }))).toBe(true);
    expect(where(`label = 'a\\b'`, sample({ label: 'a\\b' }))).toBe(true);
  });

  it('reads number and hex literals as their text for a String column, as SpacetimeDB does', () => {
    expect(where('label = 42', sample({ label: '42' }))).toBe(true);
    expect(where('label = -4.20', sample({ label: '-4.20' }))).toBe(true);
    expect(where('label = 0xAB', sample({ label: 'AB' }))).toBe(true);
  });

  it('types TRUE/FALSE only for Bool, and a Bool column is a predicate on its own', () => {
    expect(where('flag = TRUE', sample({ flag: true }))).toBe(true);
    expect(where('flag = false', sample({ flag: true }))).toBe(false);
    expect(where('TRUE = flag', sample({ flag: true }))).toBe(true);
    expect(where('flag', sample({ flag: true }))).toBe(true);
    expect(where('flag', sample({ flag: false }))).toBe(false);
    expect(where('flag > FALSE', sample({ flag: true }))).toBe(true);
    expect(refusal(`flag = 'true'`).message).toBe(
      'The literal expression `true` cannot be parsed as type `Bool` (Literal values for type Bool are not supported)',
    );
    expect(refusal('label = TRUE').message).toBe('Unexpected type: (expected) Bool != String (inferred)');
  });
});

describe('bytes, Identity, ConnectionId and Uuid literals', () => {
  it("reads bytes from 0x…, X'…' and hex strings", () => {
    const row = sample({ payload: Uint8Array.of(1, 2) });
    for (const lit of ['0x0102', "X'0102'", "x'0102'", "'0x0102'", "'0102'"])
      expect(where(`payload = ${lit}`, row)).toBe(true);
    expect(where('payload = 0x', sample({ payload: new Uint8Array() }))).toBe(true);
    expect(where('payload < 0x02', sample({ payload: Uint8Array.of(1, 255) }))).toBe(true);
    expect(where('payload < 0x0100', sample({ payload: Uint8Array.of(1) }))).toBe(true);
    expect(refusal('payload = 0x012').kind).toBe('type');
  });

  it('reads an Identity from exactly 64 hex digits, with or without 0x', () => {
    const id = new Identity(0xabcn);
    const row = sample({ who: id });
    const hex = id.toHexString();
    expect(hex).toHaveLength(64);
    for (const lit of [`0x${hex}`, `X'${hex}'`, `'${hex}'`, `'0x${hex}'`, `0x${hex.toUpperCase()}`])
      expect(where(`who = ${lit}`, row)).toBe(true);
    expect(where(`who > 0x${'0'.repeat(63)}1`, row)).toBe(true);
    expect(refusal('who = 0xabc').message).toMatch(/cannot be parsed as type `\(__identity__: U256\)`/);
  });

  it('binds :sender to the caller, as an Identity or as 32 big-endian bytes', () => {
    expect(where('who = :sender', sample({ who: new Identity(SENDER) }))).toBe(true);
    expect(where(':sender = who', sample({ who: new Identity(SENDER + 1n) }))).toBe(false);
    const bytes = new Uint8Array(32);
    bytes[30] = 0x12;
    bytes[31] = 0x34;
    expect(where('payload = :sender', sample({ payload: bytes }))).toBe(true);
    expect(refusal('label = :sender').message).toBe(
      'Unexpected type: (expected) (__identity__: U256) != String (inferred)',
    );
  });

  it('reads a ConnectionId from exactly 32 hex digits', () => {
    const conn = new ConnectionId(0xfeedn);
    expect(where(`conn = 0x${conn.toHexString()}`, sample({ conn }))).toBe(true);
    expect(refusal(`conn = 0x${'0'.repeat(64)}`).kind).toBe('type');
  });

  it('reads a Uuid in simple, hyphenated, braced and URN form', () => {
    const uid = new Uuid(0x0123456789abcdef0123456789abcdefn);
    const row = sample({ uid });
    for (const lit of [
      `0x${uid.toHexString()}`,
      `'01234567-89ab-cdef-0123-456789abcdef'`,
      `'{01234567-89AB-CDEF-0123-456789ABCDEF}'`,
      `'urn:uuid:01234567-89ab-cdef-0123-456789abcdef'`,
    ])
      expect(where(`uid = ${lit}`, row)).toBe(true);
    expect(refusal(`uid = 'not-a-uuid'`).kind).toBe('type');
  });
});

describe('Timestamp literals (RFC 3339, as chrono parses them)', () => {
  const micros = 1_739_201_130_123_456n; // 2025-02-10T15:25:30.123456Z
  const row = () => sample({ createdAt: new Timestamp(micros) });

  it('accepts Z or an offset, T, t or a space, and any fraction length', () => {
    for (const lit of [
      '2025-02-10T15:25:30.123456Z',
      '2025-02-10 15:25:30.123456z',
      '2025-02-10t16:25:30.123456+01:00',
      '2025-02-10T10:55:30.123456−04:30',
      '2025-02-10T15:25:30.1234569999Z',
      new Timestamp(micros).toISOString(),
    ])
      expect(where(`created_at = '${lit}'`, row())).toBe(true);
    expect(where(`created_at > '2025-02-10T15:25:30Z'`, row())).toBe(true);
    expect(where(`created_at < '2025-02-10T15:25:30Z'`, row())).toBe(false);
  });

  it('handles dates before 1970 and leap seconds', () => {
    expect(
      where(`created_at = '1969-12-31T23:59:59.5Z'`, sample({ createdAt: new Timestamp(-500_000n) })),
    ).toBe(true);
    const newYear = sample({ createdAt: Timestamp.fromDate(new Date('2017-01-01T00:00:00Z')) });
    expect(where(`created_at = '2016-12-31T23:59:60Z'`, newYear)).toBe(true);
  });

  it('refuses text chrono refuses: no offset, impossible dates, numbers', () => {
    for (const lit of [
      "'2025-02-10 15:45:30'",
      "'2025-02-30T00:00:00Z'",
      "'2025-2-10T15:45:30Z'",
      "'2025-02-10T15:45:30+24:00'",
      '1739201130123456',
    ]) {
      const e = refusal(`created_at = ${lit}`);
      expect(e.kind).toBe('type');
      expect(e.message).toMatch(/Expected RFC 3339 format/);
    }
    expect(where(`created_at = '2024-02-29T00:00:00Z'`, row())).toBe(false);
  });
});

describe('types that cannot be compared', () => {
  it.each([
    ['maybe = 5', 'The literal expression `5` cannot be parsed as type `(some: U32 | none: ())`'],
    ['maybe = maybe', 'Invalid binary operator `=` for type `(some: U32 | none: ())`'],
    ['point = point', 'Invalid binary operator `=` for type `(x: I32, y: I32)`'],
    ['color <> color', 'Invalid binary operator `<>` for type `(red: () | green: ())`'],
    ['tags < tags', 'Invalid binary operator `<` for type `Array<U32>`'],
    ['span >= span', 'Invalid binary operator `>=` for type `(__time_duration_micros__: I64)`'],
  ])('%s', (condition, message) => {
    const e = refusal(condition);
    expect(e.kind).toBe('type');
    expect(e.message.startsWith(message)).toBe(true);
  });

  it('requires both sides to have exactly the same type', () => {
    expect(refusal('small_u_32 = big_u_64').message).toBe(
      'Unexpected type: (expected) U64 != U32 (inferred)',
    );
    expect(refusal('label = small_u_32').message).toBe(
      'Unexpected type: (expected) U32 != String (inferred)',
    );
    expect(where('label = other', sample({ label: 'a', other: 'a' }))).toBe(true);
    expect(where('smallU32 = small_u_32', sample({}))).toBe(true);
  });

  it('needs a typed side: literal against literal is refused unless both are booleans', () => {
    expect(refusal('1 = 1')).toMatchObject({
      kind: 'unresolved',
      message: 'Cannot resolve type for literal expression',
    });
    expect(refusal(`'a' < 'b'`).kind).toBe('unresolved');
    expect(where('TRUE = TRUE', sample({}))).toBe(true);
    expect(where(':sender = :sender', sample({}))).toBe(true);
  });

  it('requires the WHERE clause, and both sides of AND/OR, to be Bool', () => {
    expect(refusal('small_u_32').message).toBe('Unexpected type: (expected) U32 != Bool (inferred)');
    expect(refusal(':sender').message).toBe(
      'Unexpected type: (expected) (__identity__: U256) != Bool (inferred)',
    );
    expect(refusal(`'x'`).message).toMatch(/^The literal expression `x` cannot be parsed as type `Bool`/);
    expect(refusal('flag AND label').message).toBe('Unexpected type: (expected) String != Bool (inferred)');
    expect(refusal('small_u_32 = (flag AND flag)').message).toBe(
      'Unexpected type: (expected) Bool != U32 (inferred)',
    );
  });
});
