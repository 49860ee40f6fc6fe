/**
 * The module realm's TextEncoder gives exactly the bytes of the host's UTF-8 encoder, on the in-realm
 * ASCII fast path and on the host path alike (lone surrogates become U+FFFD, as in any encoder).
 */
import vm from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILTINS_SOURCE } from './builtins.js';

const hostEncoder = new TextEncoder();

function realmEncoder(): { encode(s: string): Uint8Array } {
  const context = vm.createContext({});
  const install = vm.runInContext(BUILTINS_SOURCE, context) as (...args: unknown[]) => void;
  install(
    (s: string, out: Uint8Array) => hostEncoder.encodeInto(s, out).written,
    (input: Uint8Array) => new TextDecoder().decode(input),
  );
  const encoder = vm.runInContext('new TextEncoder()', context) as { encode(s: string): Uint8Array };
  return encoder;
}

describe('module realm TextEncoder', () => {
  const encoder = realmEncoder();
  const same = (s: string): void => {
    expect([...encoder.encode(s)]).toEqual([...hostEncoder.encode(s)]);
  };

  it('encodes ASCII, non-ASCII, long and empty strings as the host does', () => {
    for (const s of [
      '',
      'orders:1',
      'bench.v1',
      'é',
      'aé',
      '€uro',
      '𝄞',
      'x'.repeat(256),
      'x'.repeat(257),
      `${'y'.repeat(255)}é`,
      '\ud800',
    ])
      same(s);
  });

  it('matches the host on any string', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
        same,
      ),
    );
  });
});
