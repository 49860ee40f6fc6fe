import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from './bytes.js';
import { frameTx, scanFrames } from './frame.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-file.js';
import { decodeTx } from './tx-codec.js';
import type { DatabaseImage, DurableTx } from './types.js';

const U256_MAX = (1n << 256n) - 1n;
const I128_MAX = (1n << 127n) - 1n;

const fullTx: DurableTx = {
  offset: 42n,
  timestamp: 1_722_000_000_123_456n,
  reducer: 'add_person',
  args: new Uint8Array([1, 2, 3]),
  callerIdentity: U256_MAX,
  callerConnectionId: (1n << 128n) - 1n,
  mutations: [
    { tableId: 4096, inserts: [new Uint8Array([9]), new Uint8Array(0)], deletes: [new Uint8Array([7, 7])] },
    { tableId: 1, inserts: [], deletes: [], truncated: true },
  ],
  sequences: [{ tableId: 4096, colId: 0, allocated: I128_MAX }],
};

function roundTrip(tx: DurableTx): DurableTx {
  const frame = frameTx(tx);
  const scan = scanFrames(frame, 0);
  expect(scan.problem).toBeUndefined();
  expect(scan.frames).toHaveLength(1);
  return decodeTx((scan.frames[0] as { payload: Buffer }).payload);
}

describe('tx records', () => {
  it('round-trip every field, including u256 identities and i128 allocations', () => {
    expect(roundTrip(fullTx)).toEqual(fullTx);
  });

  it('keep absent optional fields absent (not undefined-valued or empty)', () => {
    const minimal: DurableTx = { offset: 0n, timestamp: -5n, mutations: [] };
    const back = roundTrip(minimal);
    expect(back).toEqual(minimal);
    expect(Object.keys(back).sort()).toEqual(['mutations', 'offset', 'timestamp']);
  });

  it('round-trip arbitrary transactions (property)', () => {
    const bytes = fc.uint8Array({ maxLength: 40 }).map((b) => new Uint8Array(b));
    const tx = fc.record(
      {
        offset: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        timestamp: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
        reducer: fc.string(),
        args: bytes,
        callerIdentity: fc.bigInt({ min: 0n, max: U256_MAX }),
        callerConnectionId: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        mutations: fc.array(
          fc.record(
            {
              tableId: fc.nat({ max: 0xffffffff }),
              inserts: fc.array(bytes, { maxLength: 4 }),
              deletes: fc.array(bytes, { maxLength: 4 }),
              truncated: fc.constant(true),
            },
            { requiredKeys: ['tableId', 'inserts', 'deletes'] },
          ),
          { maxLength: 4 },
        ),
        sequences: fc.array(
          fc.record({
            tableId: fc.nat({ max: 0xffffffff }),
            colId: fc.nat({ max: 0xffff }),
            allocated: fc.bigInt({ min: -I128_MAX, max: I128_MAX }),
          }),
          { maxLength: 3 },
        ),
      },
      { requiredKeys: ['offset', 'timestamp', 'mutations'] },
    );
    fc.assert(
      fc.property(tx, (t) => {
        expect(roundTrip(t)).toEqual(t);
      }),
    );
  });
});

describe('frame scanning', () => {
  const three = Buffer.concat([0n, 1n, 2n].map((offset) => frameTx({ ...fullTx, offset })));
  const oneLength = frameTx(fullTx).length;

  it('stops at a record cut short and reports where the valid part ends', () => {
    const scan = scanFrames(three.subarray(0, three.length - 3), 0);
    expect(scan.frames).toHaveLength(2);
    expect(scan.validEnd).toBe(2 * oneLength);
    expect(scan.problem).toMatch(/cut short/);
  });

  it('stops at a flipped byte inside a record', () => {
    const damaged = Buffer.from(three);
    damaged[oneLength + 20] = (damaged[oneLength + 20] as number) ^ 0x01;
    const scan = scanFrames(damaged, 0);
    expect(scan.frames).toHaveLength(1);
    expect(scan.validEnd).toBe(oneLength);
    expect(scan.problem).toMatch(/checksum/);
  });

  it('does not take a zero-filled tail for records', () => {
    const scan = scanFrames(Buffer.concat([three, Buffer.alloc(4096)]), 0);
    expect(scan.frames).toHaveLength(3);
    expect(scan.validEnd).toBe(three.length);
    expect(scan.problem).toBeDefined();
  });
});

describe('snapshot files', () => {
  const image: DatabaseImage = {
    offset: 99n,
    tables: new Map([
      [4096, [new Uint8Array([1, 2]), new Uint8Array([3])]],
      [7, []],
    ]),
    sequences: [{ tableId: 4096, colId: 1, allocated: 8192n }],
  };

  it('round-trip the image and the schema hash', () => {
    const back = decodeSnapshot(encodeSnapshot(image, 'hash-1'), 99n);
    expect(back.schemaHash).toBe('hash-1');
    expect(back.image).toEqual(image);
  });

  it('reject any flipped byte', () => {
    const file = encodeSnapshot(image, undefined);
    for (let at = 0; at < file.length; at += 7) {
      const damaged = Buffer.from(file);
      damaged[at] = (damaged[at] as number) ^ 0x40;
      expect(() => decodeSnapshot(damaged, 99n), `byte ${at}`).toThrow(DecodeError);
    }
  });

  it('reject a file whose name disagrees with its contents', () => {
    expect(() => decodeSnapshot(encodeSnapshot(image, undefined), 98n)).toThrow(/file name says 98/);
  });
});
