/**
 * `__t.…` type-builder expressions for algebraic types, as the official TypeScript codegen writes
 * them: SpacetimeDB's special types by their builders, a byte array as `byteArray()`, and a named
 * type (a typespace ref with a name) by its name from types.ts — such fields are getters in the
 * output, so mutually recursive types are read after every type is defined.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { Typespace } from '../contract.js';
import { pascalCase, propertyKey } from './naming.js';

export interface TypeContext {
  readonly typespace: Typespace;
  readonly typeNames: ReadonlyMap<number, string>;
  /** Named types the expressions refer to (the caller imports them from types.ts). */
  readonly used: Set<string>;
}

const PRIMITIVES: Partial<Record<AlgebraicTypeType['tag'], string>> = {
  Bool: 'bool',
  String: 'string',
  I8: 'i8',
  U8: 'u8',
  I16: 'i16',
  U16: 'u16',
  I32: 'i32',
  U32: 'u32',
  I64: 'i64',
  U64: 'u64',
  I128: 'i128',
  U128: 'u128',
  I256: 'i256',
  U256: 'u256',
  F32: 'f32',
  F64: 'f64',
};

/** Products SpacetimeDB gives a type of their own, recognised by their single field's name. */
const SPECIAL_PRODUCTS: Record<string, string> = {
  __identity__: '__t.identity()',
  __connection_id__: '__t.connectionId()',
  __timestamp_micros_since_unix_epoch__: '__t.timestamp()',
  __time_duration_micros__: '__t.timeDuration()',
  __uuid__: '__t.uuid()',
};

const variantNames = (ty: AlgebraicTypeType & { tag: 'Sum' }): string =>
  ty.value.variants.map((v) => v.name).join();

/** The builder expression for `ty`; `hint` names an anonymous compound type (not produced by TS modules). */
export function typeBuilder(ty: AlgebraicTypeType, ctx: TypeContext, hint = 'Anonymous'): string {
  const prim = PRIMITIVES[ty.tag];
  if (prim) return `__t.${prim}()`;
  switch (ty.tag) {
    case 'Ref': {
      const name = ctx.typeNames.get(ty.value);
      if (name !== undefined) {
        ctx.used.add(name);
        return name;
      }
      const target = ctx.typespace.types[ty.value];
      if (!target) throw new Error(`dangling type ref ${ty.value}`);
      return typeBuilder(target, ctx, hint);
    }
    case 'Array':
      return ty.value.tag === 'U8' ? '__t.byteArray()' : `__t.array(${typeBuilder(ty.value, ctx, hint)})`;
    case 'Product': {
      const els = ty.value.elements;
      const special = els.length === 1 ? SPECIAL_PRODUCTS[els[0]?.name ?? ''] : undefined;
      if (special) return special;
      if (els.length === 0) return '__t.unit()';
      const fields = els.map((e) => `${propertyKey(e.name ?? '')}: ${typeBuilder(e.algebraicType, ctx)}`);
      return `__t.object(${JSON.stringify(hint)}, { ${fields.join(', ')} })`;
    }
    case 'Sum': {
      const [first, second] = ty.value.variants;
      switch (variantNames(ty)) {
        case 'some,none':
          return `__t.option(${typeBuilder(first?.algebraicType as AlgebraicTypeType, ctx)})`;
        case 'ok,err':
          return `__t.result(${typeBuilder(first?.algebraicType as AlgebraicTypeType, ctx)}, ${typeBuilder(second?.algebraicType as AlgebraicTypeType, ctx)})`;
        case 'Interval,Time':
          return '__t.scheduleAt()';
      }
      const variants = ty.value.variants.map(
        (v) => `${propertyKey(pascalCase(v.name ?? ''))}: ${typeBuilder(v.algebraicType, ctx)}`,
      );
      return `__t.enum(${JSON.stringify(hint)}, { ${variants.join(', ')} })`;
    }
    default:
      throw new Error(`unsupported type ${ty.tag}`);
  }
}

/** Whether `typeBuilder` names a type from types.ts somewhere in `ty` (the field then is a getter). */
export function refersToNamedType(ty: AlgebraicTypeType, ctx: TypeContext): boolean {
  const used = new Set<string>();
  typeBuilder(ty, { ...ctx, used });
  return used.size > 0;
}
