/**
 * Client frame decoding: a Subscribe whose query-string count the frame cannot hold is refused before
 * decoding (the package's deserializer would allocate an array of that many slots first; found by the
 * devhost/socket fuzz target's profile), while real Subscribes, alone or packed in a v3 frame, decode.
 */
import { BinaryWriter } from 'spacetimedb';
import { describe, expect, it } from 'vitest';
import { ClientMessage } from '../stdb-internal/client-api.js';
import { ClientFrameError, decodeClientFrame } from './framing.js';

function encode(...messages: ClientMessage[]): Uint8Array {
  const w = new BinaryWriter(64);
  for (const m of messages) ClientMessage.serialize(w, m);
  return w.getBuffer();
}

const subscribe = (queryStrings: string[]): ClientMessage => ({
  tag: 'Subscribe',
  value: { requestId: 7, querySetId: { id: 1 }, queryStrings },
});

/** A Subscribe frame whose count says `count` query strings, followed by `tail`. */
function claiming(count: number, tail: Uint8Array = new Uint8Array()): Uint8Array {
  const head = encode(subscribe([])); // tag, requestId, querySetId, count 0
  const frame = new Uint8Array(head.length + tail.length);
  frame.set(head);
  new DataView(frame.buffer).setUint32(head.length - 4, count, true);
  frame.set(tail, head.length);
  return frame;
}

describe('client frames: the query-string count of a Subscribe', () => {
  it('decodes real Subscribes, with no, one or many query strings, and packed in a v3 frame', () => {
    for (const qs of [[], ['SELECT * FROM person'], Array.from({ length: 200 }, (_, i) => `q${i}`)])
      expect(decodeClientFrame(encode(subscribe(qs)), 'v2')).toEqual([subscribe(qs)]);
    const two = encode(subscribe(['SELECT * FROM person']), subscribe(['a', 'b']));
    expect(decodeClientFrame(two, 'v3')).toEqual([
      subscribe(['SELECT * FROM person']),
      subscribe(['a', 'b']),
    ]);
  });

  it('refuses a count the frame cannot hold before decoding, naming the count', () => {
    for (const count of [30_000_000, 100_000, 2 ** 32 - 1])
      expect(() => decodeClientFrame(claiming(count), 'v2')).toThrow(
        new ClientFrameError(
          `invalid client message: Subscribe claims ${count} query strings but only 0 bytes follow`,
        ),
      );
    // Second message of a v3 frame: checked where it starts.
    const packed = new Uint8Array([...encode(subscribe(['a'])), ...claiming(1_000_000)]);
    expect(() => decodeClientFrame(packed, 'v3')).toThrow(/claims 1000000 query strings/);
  });

  it('leaves a count the bytes could hold to the decoder, which refuses missing strings as before', () => {
    // 8 bytes hold two empty strings' lengths: the count passes, the strings decode as ''.
    expect(decodeClientFrame(claiming(2, new Uint8Array(8)), 'v2')).toEqual([subscribe(['', ''])]);
    // 3 claimed, 8 bytes: refused by the count (12 needed).
    expect(() => decodeClientFrame(claiming(3, new Uint8Array(8)), 'v2')).toThrow(ClientFrameError);
    // 1 claimed whose length says 10 bytes but none follow: the decoder's own refusal.
    const truncated = claiming(1, new Uint8Array([10, 0, 0, 0]));
    expect(() => decodeClientFrame(truncated, 'v2')).toThrow(ClientFrameError);
    expect(() => decodeClientFrame(truncated, 'v2')).not.toThrow(/claims/);
  });
});

describe('client frames: sum variants past the end of their enum', () => {
  it('refuses an Unsubscribe whose flags tag is unknown instead of decoding it without flags', () => {
    const frame = Uint8Array.from(Buffer.from('01020000000100000002', 'hex'));
    expect(() => decodeClientFrame(frame, 'v2')).toThrow(ClientFrameError);
    expect(() => decodeClientFrame(frame, 'v2')).toThrow(/unknown Unsubscribe flags variant/);
    const known = Uint8Array.from(Buffer.from('01020000000100000001', 'hex'));
    expect(decodeClientFrame(known, 'v2')[0]).toMatchObject({
      tag: 'Unsubscribe',
      value: { flags: { tag: 'SendDroppedRows' } },
    });
  });
});
