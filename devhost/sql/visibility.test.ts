import { Identity } from 'spacetimedb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleSchema } from '../contract.js';
import { compileVisibility, RuleCache, SqlError } from './index.js';
import { encodeRow, loadSchema, SQL_MODULE, TEST_MODULE, tableOf } from './testing/schema.js';

// SQL_MODULE's rules: `SELECT * FROM doc WHERE doc.owner = :sender` and
// `SELECT * FROM "doc" WHERE "shared" = TRUE`.
let schema: ModuleSchema;
let testModule: ModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(SQL_MODULE);
  testModule = await loadSchema(TEST_MODULE);
});

const ALICE = 0xa11cen;
const BOB = 0xb0bn;

const doc = (owner: bigint, shared: boolean) =>
  encodeRow(schema, 'doc', { id: 1, owner: new Identity(owner), shared, title: 't' });
const docId = () => tableOf(schema, 'doc').tableId;

describe('row-level security', () => {
  it('shows a non-owner the rows matching any rule of the table', () => {
    const visible = compileVisibility(schema, { sender: ALICE, isOwner: false });
    expect(visible(docId(), doc(ALICE, false))).toBe(true);
    expect(visible(docId(), doc(BOB, true))).toBe(true);
    expect(visible(docId(), doc(BOB, false))).toBe(false);
  });

  it('binds :sender to each viewer', () => {
    const bob = compileVisibility(schema, { sender: BOB, isOwner: false });
    expect(bob(docId(), doc(ALICE, false))).toBe(false);
    expect(bob(docId(), doc(BOB, false))).toBe(true);
  });

  it('leaves tables without rules, and the owner, unrestricted', () => {
    const visible = compileVisibility(schema, { sender: ALICE, isOwner: false });
    expect(visible(tableOf(schema, 'plain').tableId, encodeRow(schema, 'plain', { id: 3 }))).toBe(true);
    const owner = compileVisibility(schema, { sender: 1n, isOwner: true });
    expect(owner(docId(), doc(BOB, false))).toBe(true);
    const noRules = compileVisibility({ ...schema, rowLevelSecurity: [] }, { sender: ALICE, isOwner: false });
    expect(noRules(docId(), doc(BOB, false))).toBe(true);
  });

  it('applies rules written for private tables', () => {
    const withRule = {
      ...testModule,
      rowLevelSecurity: ['SELECT * FROM secret_note WHERE owner = :sender'],
    };
    const visible = compileVisibility(withRule, { sender: ALICE, isOwner: false });
    const note = (owner: bigint) =>
      encodeRow(testModule, 'secret_note', { id: 1n, owner: new Identity(owner), text: 'x' });
    const noteId = tableOf(testModule, 'secret_note').tableId;
    expect(visible(noteId, note(ALICE))).toBe(true);
    expect(visible(noteId, note(BOB))).toBe(false);
  });

  it.each([
    ['SELECT doc.* FROM doc JOIN plain ON doc.id = plain.id', /which devhost does not evaluate/],
    ['SELECT * FROM doc WHERE nope = :sender', /`nope` is not in scope/],
    ['SELECT * FROM *', /must return exactly one table/],
  ])('refuses a rule it cannot apply, naming it: %s', (rule, reason) => {
    const bad = { ...schema, rowLevelSecurity: [...schema.rowLevelSecurity, rule] };
    let error: unknown;
    try {
      compileVisibility(bad, { sender: ALICE, isOwner: false });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SqlError);
    expect((error as SqlError).kind).toBe('unsupported');
    expect((error as SqlError).message).toContain(`\`${rule}\``);
    expect((error as SqlError).message).toMatch(reason);
    // The owner never applies rules, so a bad rule does not stop the owner.
    expect(compileVisibility(bad, { sender: 1n, isOwner: true })(docId(), doc(BOB, false))).toBe(true);
  });
});

describe('row-level security rules shared per identity (RuleCache)', () => {
  it('compiles an identity’s rules once and reuses them for its next connection', () => {
    const cache = new RuleCache(8);
    const first = cache.rulesFor(schema, ALICE);
    expect(cache.rulesFor(schema, ALICE)).toBe(first);
    expect(cache.size(schema)).toBe(1);
    const visible = compileVisibility(schema, { sender: ALICE, isOwner: false }, undefined, cache.rulesFor);
    expect(visible(docId(), doc(ALICE, false))).toBe(true);
    expect(visible(docId(), doc(BOB, false))).toBe(false);
  });

  it('keeps each identity’s :sender: a rule compiled for one viewer never decides for another', () => {
    const cache = new RuleCache(8);
    const alice = compileVisibility(schema, { sender: ALICE, isOwner: false }, undefined, cache.rulesFor);
    const bob = compileVisibility(schema, { sender: BOB, isOwner: false }, undefined, cache.rulesFor);
    expect(cache.size(schema)).toBe(2);
    expect([alice(docId(), doc(ALICE, false)), alice(docId(), doc(BOB, false))]).toEqual([true, false]);
    expect([bob(docId(), doc(ALICE, false)), bob(docId(), doc(BOB, false))]).toEqual([false, true]);
  });

  it('is bounded: beyond maxSenders the least recently connected identity’s rules go', () => {
    const cache = new RuleCache(2);
    const alice = cache.rulesFor(schema, ALICE);
    cache.rulesFor(schema, BOB);
    cache.rulesFor(schema, ALICE); // Alice connected again: Bob is now the least recent
    cache.rulesFor(schema, 0xca201n);
    expect(cache.size(schema)).toBe(2);
    expect(cache.rulesFor(schema, ALICE)).toBe(alice);
    expect(cache.size(schema)).toBe(2);
  });

  it('keeps nothing for rules that do not compile: they are refused every time', () => {
    const cache = new RuleCache(8);
    const bad = { ...schema, rowLevelSecurity: [...schema.rowLevelSecurity, 'SELECT * FROM *'] };
    for (let i = 0; i < 2; i++)
      expect(() =>
        compileVisibility(bad, { sender: ALICE, isOwner: false }, undefined, cache.rulesFor),
      ).toThrow(/must return exactly one table/);
    expect(cache.size(bad)).toBe(0);
  });
});
