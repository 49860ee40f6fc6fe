/**
 * What one client may cost devhost (security audit finding 7): past each limit the client gets an
 * error it can read and the server keeps serving everyone else. Small limits make each one reachable.
 */
import { AlgebraicType, BinaryReader } from 'spacetimedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevhostDatabase } from '../host/index.js';
import { type DevhostServer, startServer } from './index.js';
import { openTestDatabase, RawClient, reducerArgs, registry, UpgradeRefused } from './testing/e2e-harness.js';

let db: DevhostDatabase;
let server: DevhostServer;
const clients: RawClient[] = [];

beforeAll(async () => {
  db = await openTestDatabase('limits');
  server = await startServer({
    databases: registry(db),
    limits: {
      outboundBytes: 256 * 1024,
      connections: 12,
      connectionsPerIdentity: 2,
      queryBytes: 512,
      queryTerms: 4,
      queriesPerConnection: 3,
      reducerArgsBytes: 1024,
    },
  });
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await server.close();
  await db.close();
});

async function open(query: Record<string, string> = {}): Promise<RawClient> {
  const c = await RawClient.open(server.url, 'limits', { query });
  clients.push(c);
  await c.next('InitialConnection');
  return c;
}

async function mintToken(): Promise<string> {
  const res = await fetch(`${server.url}/v1/identity`, { method: 'POST' });
  return ((await res.json()) as { token: string }).token;
}

let requestId = 1;
function call(c: RawClient, reducer: string, args: object | Uint8Array): number {
  const id = requestId++;
  c.send({
    tag: 'CallReducer',
    value: {
      requestId: id,
      flags: 0,
      reducer,
      args: args instanceof Uint8Array ? args : reducerArgs(db, reducer, args),
    },
  });
  return id;
}

function subscribe(c: RawClient, querySetId: number, queries: string[]): number {
  const id = requestId++;
  c.send({
    tag: 'Subscribe',
    value: { requestId: id, querySetId: { id: querySetId }, queryStrings: queries },
  });
  return id;
}

/** Whether the test module logged the disconnect of this connection (its client_disconnected ran). */
function disconnected(connectionId: bigint): boolean {
  const t = db.schema.tableByName('connection_log');
  if (!t) throw new Error('no connection_log');
  const de = AlgebraicType.makeDeserializer(t.rowType, db.schema.typespace as never);
  return db
    .rows('connection_log')
    .map((r) => de(new BinaryReader(r)) as { kind: string; connectionId?: { __connection_id__: bigint } })
    .some((r) => r.kind === 'disconnected' && r.connectionId?.__connection_id__ === connectionId);
}

let served = 0;
/** The server still serves a new client: it connects and a reducer call commits. */
async function alive(): Promise<void> {
  const c = await open();
  const id = call(c, 'add_person', { name: `still-serving-${++served}`, age: 1, team: 'x', level: 1 });
  const r = await c.next('ReducerResult', (x) => x.requestId === id);
  expect(
    r.result,
    JSON.stringify(r.result, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
  ).toMatchObject({ tag: 'Ok' });
  await c.close();
}

describe('devhost limits', () => {
  it('drops a client that stops reading once its outbound buffer passes the limit', async () => {
    // Uncompressed, so the bytes on the wire are the rows' (the test's blobs compress to nothing).
    const slow = await open({ compression: 'None' });
    const init = await slow.next('InitialConnection');
    const slowId = init.connectionId.__connection_id__;
    subscribe(slow, 1, ['SELECT * FROM blob']);
    await slow.next('SubscribeApplied');
    // The client stops reading: the kernel buffers fill, then the server's own buffer.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const writer = await open();
    for (let i = 0; i < 200 && !disconnected(slowId); i++) {
      const id = call(writer, 'add_blobs', { count: 10, size: 100_000 });
      const r = await writer.next('ReducerResult', (x) => x.requestId === id);
      expect(r.result.tag).toBe('Ok');
    }
    expect(disconnected(slowId)).toBe(true);
    slow.ws.terminate();
    await writer.close();
    await alive();
  }, 60_000);

  it('refuses connections past the per-identity and the overall limit, with the reason', async () => {
    const token = await mintToken();
    await open({ token });
    await open({ token });
    const third = await RawClient.open(server.url, 'limits', { query: { token } }).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(UpgradeRefused);
    expect((third as UpgradeRefused).status).toBe(429);
    expect((third as UpgradeRefused).body).toMatch(/too many connections for this identity: at most 2/);

    const many: RawClient[] = [];
    let refused: unknown;
    for (let i = 0; i < 20 && refused === undefined; i++) {
      try {
        many.push(await open());
      } catch (e) {
        refused = e;
      }
    }
    expect(refused).toBeInstanceOf(UpgradeRefused);
    expect((refused as UpgradeRefused).status).toBe(503);
    expect((refused as UpgradeRefused).body).toMatch(/the server holds its maximum of 12/);
    for (const c of many) await c.close();
    await alive();
  });

  it('refuses oversized and overly complex queries, and too many per connection', async () => {
    const c = await open();
    const long = `SELECT * FROM person WHERE name = '${'x'.repeat(600)}'`;
    subscribe(c, 1, [long]);
    expect((await c.next('SubscriptionError')).error).toMatch(
      /query of \d+ bytes is over the limit of 512 bytes/,
    );
    const terms = `SELECT * FROM person WHERE ${[1, 2, 3, 4, 5].map((n) => `age = ${n}`).join(' OR ')}`;
    subscribe(c, 2, [terms]);
    expect((await c.next('SubscriptionError', (e) => e.querySetId.id === 2)).error).toMatch(
      /query with 5 comparisons is over the limit of 4/,
    );
    c.send({ tag: 'OneOffQuery', value: { requestId: requestId++, queryString: long } });
    const oneOff = await c.next('OneOffQueryResult');
    expect(JSON.stringify(oneOff.result)).toMatch(/query of \d+ bytes is over the limit of 512 bytes/);
    subscribe(c, 3, ['SELECT * FROM person', 'SELECT * FROM blob']);
    await c.next('SubscribeApplied', (a) => a.querySetId.id === 3);
    subscribe(c, 4, ['SELECT * FROM person WHERE age = 1', 'SELECT * FROM person WHERE age = 2']);
    expect((await c.next('SubscriptionError', (e) => e.querySetId.id === 4)).error).toMatch(
      /too many queries on this connection: at most 3/,
    );
    await c.close();
  });

  it('refuses reducer arguments over the limit with a clear error', async () => {
    const c = await open();
    const id = call(c, 'add_person', { name: 'x'.repeat(2000), age: 1, team: 't', level: 1 });
    const result = await c.next('ReducerResult', (r) => r.requestId === id);
    expect(result.result).toMatchObject({ tag: 'InternalError' });
    expect(String((result.result as { value: unknown }).value)).toMatch(
      /reducer add_person: arguments of \d+ bytes are over the limit of 1024 bytes/,
    );
    await c.close();
    await alive();
  });
});
