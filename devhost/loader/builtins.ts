/**
 * What the real host evaluates in a fresh context before the module (host spec §1.2,
 * `crates/core/src/host/v8/builtins/`): utf-8 TextEncoder/TextDecoder and a `Math.random` that throws.
 * Plus what V8 in Node 20 lacks and the server library needs (spec §1.3): `Symbol.dispose`/
 * `Symbol.asyncDispose` (the lowered `using` looks them up) and the ES2025 Set methods
 * (`isSubsetOf` is used by `makeTableView`).
 *
 * Everything is defined with the context's own intrinsics so the module never sees our realm's objects;
 * the only host values are the two utf-8 primitives passed in, whose results are copied into the context.
 */
export const BUILTINS_SOURCE = `(function (hostEncodeInto, hostDecode) {
  'use strict';
  const define = (obj, name, value) =>
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });

  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(input = '') {
      const s = String(input);
      // Short ASCII strings (names, keys, kinds: most a module writes) are encoded in the realm:
      // crossing to the host costs more than the loop. Anything else goes to the host's encoder.
      if (s.length <= 256) {
        const ascii = new Uint8Array(s.length);
        let i = 0;
        for (; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c > 0x7f) break;
          ascii[i] = c;
        }
        if (i === s.length) return ascii;
      }
      const out = new Uint8Array(s.length * 3);
      const written = hostEncodeInto(s, out);
      return out.slice(0, written);
    }
    encodeInto(input, dest) {
      const s = String(input);
      const tmp = this.encode(s);
      const n = Math.min(tmp.length, dest.length);
      dest.set(tmp.subarray(0, n));
      return { read: s.length, written: n };
    }
  }
  class TextDecoder {
    constructor(label = 'utf-8', options = {}) {
      const l = String(label).toLowerCase();
      if (l !== 'utf-8' && l !== 'utf8' && l !== 'unicode-1-1-utf-8') throw new RangeError('The encoding label provided ("' + label + '") is invalid.');
      if (options && (options.ignoreBOM)) throw new TypeError('ignoreBOM is not supported');
      this.fatal = !!(options && options.fatal);
    }
    get encoding() { return 'utf-8'; }
    decode(input, options) {
      if (options && options.stream) throw new TypeError('streaming decode is not supported');
      if (input === undefined) return '';
      return hostDecode(input, this.fatal);
    }
  }
  define(globalThis, 'TextEncoder', TextEncoder);
  define(globalThis, 'TextDecoder', TextDecoder);

  Object.defineProperty(Math, 'random', {
    configurable: true,
    enumerable: false,
    get() {
      throw new TypeError('Math.random is not available in SpacetimeDB modules. Use ctx.random instead.');
    },
  });

  if (!Symbol.dispose) define(Symbol, 'dispose', Symbol('Symbol.dispose'));
  if (!Symbol.asyncDispose) define(Symbol, 'asyncDispose', Symbol('Symbol.asyncDispose'));

  const SetProto = Set.prototype;
  const otherKeys = (other) => {
    if (other == null || typeof other.has !== 'function' || typeof other.keys !== 'function') {
      throw new TypeError('The argument must be set-like');
    }
    return other;
  };
  const setMethods = {
    isSubsetOf(other) { otherKeys(other); for (const v of this) if (!other.has(v)) return false; return true; },
    isSupersetOf(other) { for (const v of otherKeys(other).keys()) if (!this.has(v)) return false; return true; },
    isDisjointFrom(other) { otherKeys(other); for (const v of this) if (other.has(v)) return false; return true; },
    union(other) { const r = new Set(this); for (const v of otherKeys(other).keys()) r.add(v); return r; },
    intersection(other) { otherKeys(other); const r = new Set(); for (const v of this) if (other.has(v)) r.add(v); return r; },
    difference(other) { otherKeys(other); const r = new Set(); for (const v of this) if (!other.has(v)) r.add(v); return r; },
    symmetricDifference(other) {
      const r = new Set(this);
      for (const v of otherKeys(other).keys()) { if (this.has(v)) r.delete(v); else r.add(v); }
      return r;
    },
  };
  for (const [name, fn] of Object.entries(setMethods)) if (!SetProto[name]) define(SetProto, name, fn);
})`;
