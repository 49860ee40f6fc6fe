/**
 * Request bodies shaped like a protobuf message: JSON objects with the message's own field names and
 * values of the right kind (or, sometimes, of a wrong one), built from the message's descriptor — so
 * a fuzz target reaches every method's field validation, not only the JSON parser.
 */
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import fc from 'fast-check';

/** Words the service gives meaning to (stream ids, lanes, states, roles), mixed with arbitrary text. */
const words = fc.oneof(
  fc.constantFrom(
    '',
    'fuzz:1',
    'chat:1',
    'legacy',
    'spacetime',
    'admin',
    'shadow',
    'rollback',
    'device-1',
    '*',
  ),
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

function scalar(t: ScalarType): fc.Arbitrary<unknown> {
  switch (t) {
    case ScalarType.STRING:
      return words;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b).toString('base64'));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.oneof(fc.double(), fc.constantFrom('NaN', 'Infinity', '-1e400'));
    default:
      // 64-bit and 32-bit integers: as numbers or strings, in and far out of range.
      return fc.oneof(
        fc.integer(),
        fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
        fc.constantFrom(0, -1, 1.5, '18446744073709551615', '9223372036854775808', 'x'),
      );
  }
}

const wrongKind = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.constant([]),
  fc.constant({}),
);

function timestamp(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom('0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 'yesterday', ''),
  );
}

function value(f: DescField, depth: number): fc.Arbitrary<unknown> {
  const one = (): fc.Arbitrary<unknown> => {
    if (f.fieldKind === 'scalar') return scalar(f.scalar);
    if (f.fieldKind === 'enum') return enumValue(f.enum.values.map((v) => v.name));
    if (f.fieldKind === 'message') return messageValue(f.message, depth);
    if (f.fieldKind === 'list') {
      const elem =
        f.listKind === 'scalar'
          ? scalar(f.scalar)
          : f.listKind === 'enum'
            ? enumValue(f.enum.values.map((v) => v.name))
            : messageValue(f.message, depth);
      return fc.array(elem, { maxLength: 4 });
    }
    const v =
      f.mapKind === 'scalar'
        ? scalar(f.scalar)
        : f.mapKind === 'enum'
          ? enumValue(f.enum.values.map((x) => x.name))
          : messageValue(f.message, depth);
    return fc.dictionary(fc.string({ maxLength: 8 }), v, { maxKeys: 3 });
  };
  return fc.oneof({ weight: 20, arbitrary: one() }, { weight: 1, arbitrary: wrongKind });
}

const enumValue = (names: string[]) =>
  fc.oneof(fc.constantFrom(...names), fc.integer({ min: -1, max: 40 }), fc.constant('NOT_A_VALUE'));

function messageValue(m: DescMessage, depth: number): fc.Arbitrary<unknown> {
  if (m.typeName === 'google.protobuf.Timestamp') return timestamp();
  if (m.typeName === 'google.protobuf.Duration') return fc.constantFrom('1s', '0.5s', '-3s', '1e9s', 'x');
  if (depth <= 0) return fc.constant({});
  return messageJson(m, depth - 1);
}

/** A JSON object of `m`'s fields (any subset, json names or proto names), sometimes with unknown keys. */
export function messageJson(m: DescMessage, depth = 2): fc.Arbitrary<Record<string, unknown>> {
  const entries = m.fields.map((f) =>
    fc.option(fc.tuple(fc.constantFrom(f.jsonName, f.name), value(f, depth)), { freq: 2, nil: undefined }),
  );
  return fc
    .tuple(
      fc.tuple(...entries),
      fc.option(fc.tuple(fc.string({ maxLength: 8 }), fc.json()), { freq: 4, nil: undefined }),
    )
    .map(([fields, extra]) => {
      const o: Record<string, unknown> = {};
      for (const e of fields) if (e) o[e[0]] = e[1];
      if (extra) o[extra[0]] = JSON.parse(extra[1]);
      return o;
    });
}
