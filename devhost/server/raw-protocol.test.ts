/**
 * What the SDK hides, checked on the wire: subprotocol choice, compression tags, confirmed reads
 * holding updates until durable, and several databases behind one server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevhostDatabase } from '../host/index.js';
import { V2_PROTOCOL, V3_PROTOCOL } from './framing.js';
import { type DevhostServer, startServer } from './index.js';
import {
  decodeRows,
  ManualDurability,
  openTestDatabase,
  RawClient,
  reducerArgs,
  registry,
  settle,
  UpgradeRefused,
} from './testing/e2e-harness.js';

let main: DevhostDatabase;
let other: DevhostDatabase;
const durability = new ManualDurability();
let server: DevhostServer;
const clients: RawClient[] = [];

beforeAll(async () => {
  main = await openTestDatabase('main', { durability });
  other = await openTestDatabase('other');
  server = await startServer({ databases: registry(main, other) });
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await server.close();
  await main.close();
  await other.close();
});

async function open(
  database = 'main',
  options: Parameters<typeof RawClient.open>[2] = {},
): Promise<RawClient> {
  const c = await RawClient.open(server.url, database, options);
  clients.push(c);
  await c.next('InitialConnection');
  return c;
}

let requestId = 100;
function subscribe(c: RawClient, querySetId: number, sql: string): void {
  c.send({
    tag: 'Subscribe',
    value: { requestId: requestId++, querySetId: { id: querySetId }, queryStrings: [sql] },
  });
}
function call(c: RawClient, db: DevhostDatabase, reducer: string, args: object): number {
  const id = requestId++;
  c.send({
    tag: 'CallReducer',
    value: { requestId: id, flags: 0, reducer, args: reducerArgs(db, reducer, args) },
  });
  return id;
}

describe('devhost wire protocol', () => {
  it('prefers v3, speaks v2 when only v2 is offered, and refuses a socket with no known protocol', async () => {
    expect((await open('main')).protocol).toBe(V3_PROTOCOL);
    expect((await open('main', { protocols: [V2_PROTOCOL] })).protocol).toBe(V2_PROTOCOL);
    const refused = await RawClient.open(server.url, 'main', {
      protocols: ['v1.json.spacetimedb.bogus'],
    }).catch((e) => e);
    expect(refused).toBeInstanceOf(UpgradeRefused);
    expect((refused as UpgradeRefused).status).toBe(400);
    const missing = await RawClient.open(server.url, 'nope').catch((e) => e);
    expect((missing as UpgradeRefused).status).toBe(404);
  });

  it('gzips frames over 1024 bytes when asked, and never compresses with None', async () => {
    const writer = await open('main');
    const id = call(writer, main, 'add_blobs', { count: 2, size: 3000 });
    await writer.next('ReducerResult', (r) => r.requestId === id);
    for (const [compression, bigTag] of [
      ['Gzip', 2],
      ['None', 0],
    ] as const) {
      const c = await open('main', { query: { compression } });
      subscribe(c, 1, 'SELECT * FROM blob');
      const applied = await c.next('SubscribeApplied');
      const rows = applied.rows.tables.find((t) => t.table === 'blob');
      expect(
        decodeRows<{ data: Uint8Array }>(main, 'blob', rows?.rows.rowsData ?? new Uint8Array()).length,
      ).toBeGreaterThanOrEqual(2);
      const tags = c.frames.map((f) => f.compressionTag);
      expect(tags[0]).toBe(0); // InitialConnection is small
      expect(tags[tags.length - 1]).toBe(bigTag);
    }
  });

  it('holds updates until durable for confirmed-read connections, not for confirmed=false ones', async () => {
    const confirmed = await open('main');
    const eager = await open('main', { query: { confirmed: 'false' } });
    const writer = await open('main');
    subscribe(confirmed, 1, 'SELECT * FROM person');
    subscribe(eager, 1, 'SELECT * FROM person');
    await confirmed.next('SubscribeApplied');
    await eager.next('SubscribeApplied');
    durability.hold();
    const id = call(writer, main, 'add_person', { name: 'durable-dan', age: 40, team: 'd', level: 1 });
    await eager.next('TransactionUpdate');
    await settle(150);
    expect(confirmed.messages.some((m) => m.tag === 'TransactionUpdate')).toBe(false);
    expect(writer.messages.some((m) => m.tag === 'ReducerResult' && m.value.requestId === id)).toBe(false);
    durability.release();
    await confirmed.next('TransactionUpdate');
    await writer.next('ReducerResult', (r) => r.requestId === id);
  });

  it('serves several databases by name, each with its own state', async () => {
    const a = await open('main');
    const b = await open('other');
    const id = call(a, main, 'add_person', { name: 'only-in-main', age: 1, team: 'x', level: 1 });
    await a.next('ReducerResult', (r) => r.requestId === id);
    subscribe(b, 1, "SELECT * FROM person WHERE name = 'only-in-main'");
    const applied = await b.next('SubscribeApplied');
    expect(applied.rows.tables).toEqual([]);
    await expect
      .poll(() => main.rows('person').length - other.rows('person').length, {
        message: 'main holds more people',
      })
      .toBeGreaterThan(0);
  });

  it('closes a connection whose Unsubscribe names an unknown flags variant, and keeps serving others', async () => {
    // Found by the devhost/socket fuzz target: the package decoded flags tag 2 as no flags at all, the
    // session's handler threw out of the socket's message event and the host stopped answering.
    const bad = await open('main', { protocols: [V2_PROTOCOL] });
    subscribe(bad, 1, 'SELECT * FROM person');
    await bad.next('SubscribeApplied');
    bad.ws.send(Buffer.from('01020000000100000002', 'hex')); // Unsubscribe { requestId 2, set 1, flags tag 2 }
    const closed = await bad.closed;
    expect(closed.code).toBe(1011);
    expect(closed.reason).toContain('unknown Unsubscribe flags variant');
    const good = await open('main');
    const id = call(good, main, 'add_person', { name: 'after-bad-frame', age: 1, team: 'x', level: 1 });
    expect((await good.next('ReducerResult', (r) => r.requestId === id)).requestId).toBe(id);
  });
});
