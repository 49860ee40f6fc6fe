/**
 * Literal text typed by the column it is compared with — SpacetimeDB's `parse(value, ty)` in
 * `crates/expr/src/lib.rs`. The literal's syntax does not pick its type: `'42'` is a valid u32, `42` a
 * valid String (the text "42"), and `1234` valid bytes (0x12 0x34), exactly as there.
 */
import { parseRfc3339Micros } from './rfc3339.js';
import { INT_TYPES, isBytes, specialField, type Ty } from './types.js';
import type { Value } from './values.js';

/** Why the text is not a value of the type; becomes SpacetimeDB's `InvalidLiteral` error. */
export class LiteralError extends Error {}

/** BigDecimal's `from_str` grammar: sign, digits with an optional point, optional exponent. */
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** An exact decimal: `digits × 10^exponent` with a sign; undefined if `text` is not a decimal. */
function parseDecimal(text: string): { negative: boolean; digits: string; exponent: number } | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  if (int === '' && frac === '') return undefined;
  const exponent = Number(exp) - frac.length;
  if (!Number.isSafeInteger(exponent)) return undefined;
  return { negative: sign === '-', digits: `${int}${frac}`.replace(/^0+/, ''), exponent };
}

/** `parse_int`: an integral decimal (scientific notation allowed) within the type's range. */
function parseInteger(text: string, bits: number, signed: boolean, typeName: string): bigint {
  const d = parseDecimal(text);
  if (!d) throw new LiteralError(`${text} is not an integer`);
  let { digits, exponent } = d;
  if (digits === '') return 0n;
  // Move trailing zeros into the exponent, so `1.50e1` and `15` look alike.
  const trimmed = digits.replace(/0+$/, '');
  exponent += digits.length - trimmed.length;
  digits = trimmed;
  if (exponent < 0) throw new LiteralError(`${text} is not an integer`);
  // 2^256 has 78 decimal digits: anything longer is out of range without building a huge bigint.
  if (digits.length + exponent > 80) throw new LiteralError(`${text} is out of bounds for type ${typeName}`);
  const magnitude = BigInt(digits) * 10n ** BigInt(exponent);
  const value = d.negative ? -magnitude : magnitude;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (value < min || value > max) throw new LiteralError(`${text} is out of bounds for type ${typeName}`);
  return value;
}

function parseFloatLiteral(text: string, single: boolean): number {
  if (!parseDecimal(text)) throw new LiteralError(`${text} is not a valid ${single ? 'F32' : 'F64'}`);
  const n = Number(text);
  return single ? Math.fround(n) : n;
}

/** `from_hex_pad`: optional `0x` prefix, then an even number of hex digits. */
function parseHexBytes(text: string): Uint8Array {
  // SpacetimeDB also strips a leading `X'` here (leaving the closing quote, so such text never decodes).
  const hex = text.startsWith('0x') ? text.slice(2) : text.startsWith("X'") ? text.slice(2) : text;
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex))
    throw new LiteralError('Could not parse hex value');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function bigEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function parseFixedHex(text: string, size: number, what: string): bigint {
  const bytes = parseHexBytes(text);
  if (bytes.length !== size) throw new LiteralError(`Could not parse ${what}`);
  return bigEndian(bytes);
}

/** The `uuid` crate's `Uuid::parse_str`: simple, hyphenated, braced or URN form. */
function parseUuid(text: string): bigint {
  const h = '[0-9a-fA-F]';
  const hyphenated = `(${h}{8})-(${h}{4})-(${h}{4})-(${h}{4})-(${h}{12})`;
  const forms = [
    new RegExp(`^(${h}{32})$`),
    new RegExp(`^${hyphenated}$`),
    new RegExp(`^\\{${hyphenated}\\}$`),
    new RegExp(`^urn:uuid:${hyphenated}$`),
  ];
  for (const form of forms) {
    const m = form.exec(text);
    if (m) return BigInt(`0x${m.slice(1).join('')}`);
  }
  throw new LiteralError('invalid UUID');
}

/**
 * The value `text` denotes as type `ty` (refs resolved), in the representation `values.ts` compares:
 * number for ≤32-bit integers and floats, bigint for wider integers and special types.
 */
export function parseLiteral(text: string, ty: Ty, typeName: string): Value {
  const int = INT_TYPES[ty.tag];
  if (int) {
    const v = parseInteger(text, int.bits, int.signed, typeName);
    return int.bits <= 32 ? Number(v) : v;
  }
  if (ty.tag === 'F32' || ty.tag === 'F64') return parseFloatLiteral(text, ty.tag === 'F32');
  if (ty.tag === 'String') return text;
  switch (specialField(ty)) {
    case '__timestamp_micros_since_unix_epoch__': {
      const micros = parseRfc3339Micros(text);
      if (micros === undefined)
        throw new LiteralError(
          "Invalid timestamp format. Expected RFC 3339 format (e.g. '2025-02-10 15:45:30').",
        );
      return micros;
    }
    case '__identity__':
      return parseFixedHex(text, 32, 'identity');
    case '__connection_id__':
      return parseFixedHex(text, 16, 'connection id');
    case '__uuid__':
      return parseUuid(text);
    default:
      break;
  }
  if (isBytes(ty)) return parseHexBytes(text);
  throw new LiteralError(`Literal values for type ${typeName} are not supported`);
}
