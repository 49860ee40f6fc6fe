import fc from 'fast-check';
import { AlgebraicType, type AlgebraicTypeType, BinaryWriter } from 'spacetimedb';
import { describe, expect, it } from 'vitest';
import { BsatnError, columnBounds, columnSpan, validateExact } from './bsatn-layout.js';
import { orderedKey } from './ordered-key.js';

const typespace = { types: [] };

function bsatn(ty: AlgebraicTypeType, value: unknown): Uint8Array {
  const w = new BinaryWriter(16);
  AlgebraicType.makeSerializer(ty, typespace as never)(w, value);
  return w.getBuffer();
}

function key(ty: AlgebraicTypeType, value: unknown): string {
  return orderedKey([ty], typespace, bsatn(ty, value)).key;
}

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
const cmpKeys = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** SpacetimeDB orders strings by their UTF-8 bytes. */
const cmpUtf8 = (a: string, b: string) =>
  sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

describe('ordered keys sort like SpacetimeDB values', () => {
  it('signed and unsigned integers of every width', () => {
    const cases: [AlgebraicTypeType, fc.Arbitrary<number | bigint>][] = [
      [{ tag: 'I8' }, fc.integer({ min: -128, max: 127 })],
      [{ tag: 'U16' }, fc.integer({ min: 0, max: 65535 })],
      [{ tag: 'I32' }, fc.integer()],
      [{ tag: 'U64' }, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })],
      [{ tag: 'I64' }, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })],
      [{ tag: 'I128' }, fc.bigInt({ min: -(2n ** 127n), max: 2n ** 127n - 1n })],
    ];
    for (const [ty, arb] of cases) {
      fc.assert(
        fc.property(arb, arb, (a, b) => {
          expect(cmpKeys(key(ty, a), key(ty, b))).toBe(sign(a < b ? -1 : a > b ? 1 : 0));
        }),
      );
    }
  });

  it('floats in numeric order', () => {
    const ty: AlgebraicTypeType = { tag: 'F64' };
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.double({ noNaN: true }), (a, b) => {
        fc.pre(!(a === 0 && b === 0)); // -0 and +0 are distinct in a total order
        expect(cmpKeys(key(ty, a), key(ty, b))).toBe(sign(a - b));
      }),
    );
  });

  it('strings by UTF-8 bytes, including prefixes and NUL characters', () => {
    const ty: AlgebraicTypeType = { tag: 'String' };
    const str = fc.string({ unit: fc.constantFrom('a', 'b', '\u0000', '\uffff', '😀', 'é') });
    fc.assert(
      fc.property(str, str, (a, b) => {
        expect(cmpKeys(key(ty, a), key(ty, b))).toBe(cmpUtf8(a, b));
      }),
    );
  });

  it('a multi-column key orders by the first column, then the next', () => {
    const types: AlgebraicTypeType[] = [{ tag: 'String' }, { tag: 'U32' }];
    const pair = fc.tuple(fc.string({ maxLength: 4 }), fc.nat());
    fc.assert(
      fc.property(pair, pair, ([s1, n1], [s2, n2]) => {
        const enc = (s: string, n: number) => {
          const a = bsatn({ tag: 'String' }, s);
          const b = bsatn({ tag: 'U32' }, n);
          const all = new Uint8Array(a.length + b.length);
          all.set(a);
          all.set(b, a.length);
          return orderedKey(types, typespace, all).key;
        };
        const expected = cmpUtf8(s1, s2) || sign(n1 - n2);
        expect(cmpKeys(enc(s1, n1), enc(s2, n2))).toBe(expected);
      }),
    );
  });
});

describe('BSATN validation', () => {
  const row: AlgebraicTypeType = {
    tag: 'Product',
    value: {
      elements: [
        { name: 'id', algebraicType: { tag: 'U64' } },
        { name: 'name', algebraicType: { tag: 'String' } },
      ],
    },
  };

  it('finds each column of a row', () => {
    const bytes = bsatn(row, { id: 7n, name: 'hi' });
    expect(columnBounds(row, typespace, bytes)).toEqual([0, 8, 14]);
    // One column's span agrees with the full bounds, without reading past it.
    expect(columnSpan(row, typespace, bytes, 0)).toEqual([0, 8]);
    expect(columnSpan(row, typespace, bytes, 1)).toEqual([8, 14]);
    expect(() => columnSpan(row, typespace, bytes, 2)).toThrow(BsatnError);
  });

  it('rejects truncated input, trailing bytes and invalid UTF-8', () => {
    const bytes = bsatn(row, { id: 7n, name: 'hi' });
    expect(() => validateExact(row, typespace, bytes.subarray(0, 10))).toThrow(BsatnError);
    expect(() => validateExact(row, typespace, new Uint8Array([...bytes, 0]))).toThrow(/trailing/);
    const bad = bytes.slice();
    bad[12] = 0xff;
    expect(() => validateExact(row, typespace, bad)).toThrow(/UTF-8/);
  });
});

describe('types walked through the typespace', () => {
  // A list as a recursive type: ref 0 = Product { head: U32, tail: Option<ref 0> }.
  const list: AlgebraicTypeType = {
    tag: 'Product',
    value: {
      elements: [
        { name: 'head', algebraicType: { tag: 'U32' } },
        {
          name: 'tail',
          algebraicType: {
            tag: 'Sum',
            value: {
              variants: [
                { name: 'some', algebraicType: { tag: 'Ref', value: 0 } },
                { name: 'none', algebraicType: { tag: 'Product', value: { elements: [] } } },
              ],
            },
          },
        },
      ],
    },
  };
  const recursive = { types: [list] };
  const u32le = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
  /** BSATN of the list [values…]. */
  const encodeList = (values: number[]): Uint8Array =>
    new Uint8Array(values.flatMap((v, i) => [...u32le(v), i === values.length - 1 ? 1 : 0]));

  it('walks and keys a recursive type at any depth', () => {
    const ref: AlgebraicTypeType = { tag: 'Ref', value: 0 };
    for (const values of [[1], [1, 2, 3], Array.from({ length: 50 }, (_, i) => i)]) {
      const bytes = encodeList(values);
      expect(() => validateExact(ref, recursive, bytes)).not.toThrow();
      expect(orderedKey([ref], recursive, bytes).end).toBe(bytes.length);
    }
    expect(() => validateExact(ref, recursive, encodeList([1, 2]).subarray(0, 7))).toThrow(BsatnError);
    // Lists order element by element, a shorter prefix first.
    const k = (values: number[]) => orderedKey([ref], recursive, encodeList(values)).key;
    expect(k([1, 2]) < k([1, 3])).toBe(true);
    expect(k([1]) < k([1, 0])).toBe(false); // `none` (tag 1) sorts after `some` (tag 0), as SpacetimeDB orders sums
  });

  it('refuses a dangling type ref when a value of it is met, not before', () => {
    const dangling: AlgebraicTypeType = {
      tag: 'Sum',
      value: {
        variants: [
          { name: 'ok', algebraicType: { tag: 'U8' } },
          { name: 'bad', algebraicType: { tag: 'Ref', value: 9 } },
        ],
      },
    };
    expect(() => validateExact(dangling, typespace, new Uint8Array([0, 7]))).not.toThrow();
    expect(() => validateExact(dangling, typespace, new Uint8Array([1, 7]))).toThrow(/dangling type ref 9/);
  });
});
