/**
 * Test module for devhost/sql: one column of every type the SQL subset compares (plus a few it must
 * refuse), camelCase accessors whose canonical names differ, and row-level-security rules.
 */
import { schema, t, table } from 'spacetimedb/server';

const Point = t.object('Point', { x: t.i32(), y: t.i32() });
const Color = t.enum('Color', { red: t.unit(), green: t.unit() });

const sample = table(
  { name: 'sample', public: true },
  {
    id: t.u32().primaryKey(),
    flag: t.bool(),
    smallI8: t.i8(),
    smallU8: t.u8(),
    smallI16: t.i16(),
    smallU16: t.u16(),
    smallI32: t.i32(),
    smallU32: t.u32(),
    bigI64: t.i64(),
    bigU64: t.u64(),
    bigI128: t.i128(),
    bigU128: t.u128(),
    bigI256: t.i256(),
    bigU256: t.u256(),
    realF32: t.f32(),
    realF64: t.f64(),
    label: t.string(),
    other: t.string(),
    payload: t.byteArray(),
    who: t.identity(),
    conn: t.connectionId(),
    createdAt: t.timestamp(),
    uid: t.uuid(),
    span: t.timeDuration(),
    maybe: t.option(t.u32()),
    point: Point,
    color: Color,
    tags: t.array(t.u32()),
  },
);

/** Visible to a non-owner only when they own the row or it is shared (two rules, OR-ed). */
const doc = table(
  { name: 'doc', public: true },
  { id: t.u32().primaryKey(), owner: t.identity(), shared: t.bool(), title: t.string() },
);

/** No rules: every row visible. */
const plain = table({ name: 'plain', public: true }, { id: t.u32().primaryKey() });

const spacetimedb = schema({ sample, doc, plain });
export default spacetimedb;

export const ownDocs = spacetimedb.clientVisibilityFilter.sql('SELECT * FROM doc WHERE doc.owner = :sender');
export const sharedDocs = spacetimedb.clientVisibilityFilter.sql('SELECT * FROM "doc" WHERE "shared" = TRUE');
