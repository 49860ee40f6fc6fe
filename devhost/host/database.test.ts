/**
 * The host runs the real reference module (devhost/testdata/test-module) through the real server
 * library: these tests check the datastore/ABI/transaction semantics a module author relies on.
 */
import { AlgebraicType, BinaryReader, BinaryWriter } from 'spacetimedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller, CommittedTx } from '../contract.js';
import { bundleModule } from '../loader/index.js';
import { type DevhostDatabase, FATAL_ERROR_MESSAGE, openDatabase } from './index.js';

const MODULE = new URL('../testdata/test-module/index.ts', import.meta.url).pathname;
let bundle: string;
beforeAll(async () => {
  bundle = await bundleModule(MODULE);
});

const alice: Caller = { identity: 0xa11cen, connectionId: 1n };

function args(db: DevhostDatabase, reducer: string, value: object): Uint8Array {
  const r = db.schema.reducerByName(reducer);
  if (!r) throw new Error(`no reducer ${reducer}`);
  const w = new BinaryWriter(64);
  AlgebraicType.makeSerializer(r.params, db.schema.typespace as never)(w, value);
  return w.getBuffer();
}

function rows<T>(db: DevhostDatabase, table: string): T[] {
  const t = db.schema.tableByName(table);
  if (!t) throw new Error(`no table ${table}`);
  const de = AlgebraicType.makeDeserializer(t.rowType, db.schema.typespace as never);
  return db.rows(table).map((r) => de(new BinaryReader(r)) as T);
}

function counter(db: DevhostDatabase, name: string): bigint | undefined {
  return rows<{ name: string; value: bigint }>(db, 'counter').find((c) => c.name === name)?.value;
}

type Person = { id: bigint; name: string; age: number; team: string; level: number };

async function call(db: DevhostDatabase, reducer: string, value: object = {}, caller: Caller = alice) {
  return db.callReducer(reducer, args(db, reducer, value), caller);
}

describe('devhost database', () => {
  let db: DevhostDatabase;
  beforeAll(async () => {
    db = await openDatabase({ name: 'host-test', bundle, owner: 0x0e1n });
  });
  afterAll(async () => {
    await db.close();
  });

  it('runs init once with the owner as sender', () => {
    expect(counter(db, 'init')).toBe(1n);
    const init = rows<{ text: string; sender: { __identity__: bigint } }>(db, 'message').find(
      (m) => m.text === 'init',
    );
    expect(init?.sender.__identity__).toBe(db.owner);
  });

  it('fills auto-increment ids and reports the committed rows as deltas', async () => {
    const a = await call(db, 'add_person', { name: 'ann', age: 30, team: 'red', level: 1 });
    const b = await call(db, 'add_person', { name: 'bob', age: 40, team: 'red', level: 2 });
    expect(a.kind).toBe('committed');
    expect(b.kind).toBe('committed');
    const people = rows<Person>(db, 'person').sort((x, y) => Number(x.id - y.id));
    expect(people.map((p) => [p.id, p.name])).toEqual([
      [1n, 'ann'],
      [2n, 'bob'],
    ]);
    if (b.kind !== 'committed') return;
    expect(b.tx.caller).toEqual(alice);
    expect(b.tx.offset).toBeGreaterThan(a.kind === 'committed' ? a.tx.offset : -1n);
    expect(b.tx.deltas).toHaveLength(1);
    expect(b.tx.deltas[0]?.table).toBe('person');
    expect(b.tx.deltas[0]?.inserts).toHaveLength(1);
  });

  it('rolls back every write of a failing reducer and hides the error from the caller', async () => {
    const before = db.rows('person').length;
    const out = await call(db, 'insert_then_fail', { name: 'ghost' });
    expect(out).toMatchObject({ kind: 'failed-internal', message: FATAL_ERROR_MESSAGE });
    expect(db.rows('person')).toHaveLength(before);
    expect(counter(db, 'rollback-ghost')).toBeUndefined();
  });

  it('turns a unique violation into a failed reducer with nothing written', async () => {
    const before = db.rows('person').length;
    const out = await call(db, 'add_duplicate_name', { name: 'twin' });
    expect(out.kind).toBe('failed-internal');
    expect(rows<Person>(db, 'person').some((p) => p.name === 'twin')).toBe(false);
    expect(db.rows('person')).toHaveLength(before);
  });

  it('passes a SenderError message to the caller', async () => {
    expect(await call(db, 'fail_with_sender_error', { message: 'not allowed' })).toMatchObject({
      kind: 'failed-user',
      message: 'not allowed',
    });
    expect(await call(db, 'fail_with_error', { message: 'secret detail' })).toMatchObject({
      kind: 'failed-internal',
      message: FATAL_ERROR_MESSAGE,
    });
  });

  it('does not reuse sequence values consumed by a rolled-back transaction', async () => {
    await call(db, 'insert_then_fail', { name: 'burn' });
    await call(db, 'add_person', { name: 'cy', age: 50, team: 'blue', level: 3 });
    const ids = rows<Person>(db, 'person').map((p) => p.id);
    const cy = rows<Person>(db, 'person').find((p) => p.name === 'cy');
    // ann=1, bob=2, ghost and twin and burn consumed values that are never handed out again.
    expect(cy?.id).toBeGreaterThan(3n);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('treats inserting a byte-identical row as a no-op (set semantics)', async () => {
    const first = await call(db, 'ban_identity', { identity: { __identity__: 99n } });
    const again = await call(db, 'ban_identity', { identity: { __identity__: 99n } });
    expect(first.kind).toBe('committed');
    expect(again.kind).toBe('committed');
    if (again.kind === 'committed') expect(again.tx.deltas).toEqual([]);
    expect(db.rows('banned')).toHaveLength(1);
  });

  it('updates through the primary key as delete + insert', async () => {
    const out = await call(db, 'rename_person', { id: 1n, name: 'anna' });
    expect(out.kind).toBe('committed');
    if (out.kind === 'committed') {
      expect(out.tx.deltas[0]?.deletes).toHaveLength(1);
      expect(out.tx.deltas[0]?.inserts).toHaveLength(1);
    }
    expect(rows<Person>(db, 'person').find((p) => p.id === 1n)?.name).toBe('anna');
    expect(await call(db, 'rename_person', { id: 999n, name: 'nobody' })).toMatchObject({
      kind: 'failed-user',
      message: 'no person 999',
    });
  });

  it('answers point, prefix and range scans on single and multi-column btree indexes', async () => {
    await call(db, 'add_person', { name: 'dee', age: 30, team: 'red', level: 5 });
    await call(db, 'add_person', { name: 'eve', age: 35, team: 'redder', level: 1 });
    await call(db, 'query_team', { team: 'red', level: 2, minLevel: 2 });
    expect(counter(db, 'team_point')).toBe(1n); // bob
    expect(counter(db, 'team_prefix')).toBe(3n); // anna, bob, dee — not 'redder'
    expect(counter(db, 'team_min_level')).toBe(2n); // bob, dee
    await call(db, 'query_age', { age: 30 });
    expect(counter(db, 'age_eq')).toBe(2n);
    await call(db, 'query_age_range', { min: 30, max: 40 });
    expect(counter(db, 'age_range')).toBe(3n);
    const listed = rows<{ id: bigint; text: string }>(db, 'message').sort((a, b) => Number(b.id - a.id))[0];
    // Range scans come back in index order (age), ties by insertion.
    expect(listed?.text.split(',')).toEqual(['anna', 'dee', 'eve']);
  });

  it('deletes by index range', async () => {
    await call(db, 'delete_age_range', { min: 35, max: 41 });
    expect(counter(db, 'deleted')).toBe(2n); // eve 35, bob 40
    expect(
      rows<Person>(db, 'person')
        .map((p) => p.name)
        .sort(),
    ).toEqual(['anna', 'cy', 'dee']);
  });

  it('streams rows larger than the iterator buffer', async () => {
    await call(db, 'add_blobs', { count: 3, size: 200_000 });
    await call(db, 'scan_blobs');
    expect(counter(db, 'blob_count')).toBe(3n);
    expect(counter(db, 'blob_bytes')).toBe(600_000n);
  });

  it('delivers event-table rows in the delta but never keeps them', async () => {
    const out = await call(db, 'emit_notice', { text: 'hello' });
    expect(out.kind).toBe('committed');
    if (out.kind === 'committed')
      expect(out.tx.deltas.find((d) => d.table === 'notice')?.inserts).toHaveLength(1);
    expect(db.rows('notice')).toHaveLength(0);
  });

  it('rejects unknown, lifecycle and scheduled reducers and malformed arguments as SpacetimeDB does', async () => {
    expect(await db.callReducer('nope', new Uint8Array(), alice)).toMatchObject({
      kind: 'failed-internal',
      message: 'no such reducer',
    });
    expect(await db.callReducer('init', new Uint8Array(), alice)).toMatchObject({
      kind: 'failed-internal',
      message: "can't directly call special Init lifecycle reducer",
    });
    expect((await db.callReducer('tick', new Uint8Array(), alice)).kind).toBe('failed-internal');
    const bad = await db.callReducer('add_person', new Uint8Array([1, 2, 3]), alice);
    expect(bad.kind).toBe('failed-internal');
    if (bad.kind !== 'committed') expect(bad.message).toMatch(/^invalid arguments for function add_person: /);
  });

  it('runs client_connected in the connect transaction and rejects when it throws', async () => {
    const bob: Caller = { identity: 0xb0bn, connectionId: 2n };
    expect(await db.connectClient(bob)).toBe(true);
    await db.disconnectClient(bob);
    const kinds = rows<{ kind: string; sender: { __identity__: bigint } }>(db, 'connection_log')
      .filter((r) => r.sender.__identity__ === 0xb0bn)
      .map((r) => r.kind);
    expect(kinds).toEqual(['connected', 'disconnected']);
    await call(db, 'ban_identity', { identity: { __identity__: 0xbadn } });
    expect(await db.connectClient({ identity: 0xbadn, connectionId: 3n })).toBe(false);
    expect(
      rows<{ sender: { __identity__: bigint } }>(db, 'connection_log').some(
        (r) => r.sender.__identity__ === 0xbadn,
      ),
    ).toBe(false);
  });

  it('runs interval schedules repeatedly and one-shot schedules once, then removes the row', async () => {
    const seen: CommittedTx[] = [];
    const off = db.onCommit((tx) => seen.push(tx));
    await call(db, 'start_ticker', { intervalMicros: 10_000n });
    await call(db, 'schedule_once', { delayMicros: 5_000n, note: 'later' });
    const messages = (text: string) =>
      rows<{ text: string; sender: { __identity__: bigint } }>(db, 'message').filter((m) => m.text === text);
    await expect.poll(() => counter(db, 'ticks') ?? 0n).toBeGreaterThanOrEqual(3n);
    await expect.poll(() => messages('one-shot:later').length).toBe(1);
    await call(db, 'stop_tickers');
    const ticks = counter(db, 'ticks');
    // A one-shot due five intervals later: once it has fired, a tick still scheduled would have too.
    await call(db, 'schedule_once', { delayMicros: 50_000n, note: 'after-stop' });
    await expect.poll(() => messages('one-shot:after-stop').length).toBe(1);
    off();
    expect(counter(db, 'ticks')).toBe(ticks); // stopped: the deleted row is never fired again
    const oneShot = messages('one-shot:later');
    expect(oneShot).toHaveLength(1);
    expect(oneShot[0]?.sender.__identity__).toBe(db.identity);
    expect(db.rows('one_shot_schedule')).toHaveLength(0);
    // Scheduled work is broadcast like any other transaction, without a caller.
    expect(seen.some((tx) => tx.reducer?.name === 'tick' && tx.caller === undefined)).toBe(true);
  });
});
