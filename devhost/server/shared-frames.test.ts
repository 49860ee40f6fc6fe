/**
 * A broadcast builds one body per distinct update and one frame per body and compression
 * (broadcast-memo.ts, `sharedServerFrame`): subscribers speaking different protocols and asking for
 * different compressions must still each get a frame they can read, with the rows they subscribed to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevhostDatabase } from '../host/index.js';
import { V2_PROTOCOL, V3_PROTOCOL } from './framing.js';
import { type DevhostServer, startServer } from './index.js';
import { decodeRows, openTestDatabase, RawClient, reducerArgs, registry } from './testing/e2e-harness.js';

let db: DevhostDatabase;
let server: DevhostServer;
const clients: RawClient[] = [];

beforeAll(async () => {
  db = await openTestDatabase('main');
  server = await startServer({ databases: registry(db) });
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await server.close();
  await db.close();
});

async function open(
  protocol: string,
  compression: string,
  sql = 'SELECT * FROM blob',
  token?: string,
): Promise<RawClient> {
  const c = await RawClient.open(server.url, 'main', {
    protocols: [protocol],
    query: { compression, ...(token ? { token } : {}) },
  });
  clients.push(c);
  await c.next('InitialConnection');
  c.send({ tag: 'Subscribe', value: { requestId: 1, querySetId: { id: 1 }, queryStrings: [sql] } });
  await c.next('SubscribeApplied');
  return c;
}

async function mintToken(): Promise<string> {
  const res = await fetch(`${server.url}/v1/identity`, { method: 'POST' });
  return ((await res.json()) as { token: string }).token;
}

describe('frames shared between subscribers', () => {
  it('gives each protocol and compression its own readable frame of the same update', async () => {
    const subscribers = [
      { c: await open(V3_PROTOCOL, 'None'), tag: 0 },
      { c: await open(V3_PROTOCOL, 'None'), tag: 0 },
      { c: await open(V2_PROTOCOL, 'None'), tag: 0 },
      { c: await open(V3_PROTOCOL, 'Gzip'), tag: 2 },
      { c: await open(V2_PROTOCOL, 'Gzip'), tag: 2 },
      { c: await open(V2_PROTOCOL, 'Brotli'), tag: 1 },
    ];
    const writer = await RawClient.open(server.url, 'main');
    clients.push(writer);
    await writer.next('InitialConnection');
    writer.send({
      tag: 'CallReducer',
      value: {
        requestId: 7,
        flags: 0,
        reducer: 'add_blobs',
        args: reducerArgs(db, 'add_blobs', { count: 3, size: 2000 }),
      },
    });
    await writer.next('ReducerResult', (r) => r.requestId === 7);
    for (const { c, tag } of subscribers) {
      const update = await c.next('TransactionUpdate');
      const frame = c.frames.find((f) => f.messages.some((m) => m.tag === 'TransactionUpdate'));
      // Over 1 KiB: compressed as this client asked, not as the first subscriber did.
      expect(frame?.compressionTag).toBe(tag);
      const rows = update.querySets[0]?.tables[0]?.rows[0];
      expect(rows?.tag).toBe('PersistentTable');
      const inserted =
        rows?.tag === 'PersistentTable'
          ? decodeRows<{ data: Uint8Array }>(db, 'blob', rows.value.inserts.rowsData)
          : [];
      expect(inserted.map((r) => r.data.length)).toEqual([2000, 2000, 2000]);
    }
  });

  it('evaluates a query naming :sender for each subscriber, not once for all of them', async () => {
    const [alice, bob] = [await mintToken(), await mintToken()];
    const mine = 'SELECT * FROM connection_log WHERE sender = :sender';
    const aliceWatch = await open(V3_PROTOCOL, 'None', mine, alice);
    const bobWatch = await open(V3_PROTOCOL, 'None', mine, bob);
    // Alice connects again: client_connected logs a row with her identity, in one transaction both see.
    const again = await RawClient.open(server.url, 'main', { query: { token: alice } });
    clients.push(again);
    await again.next('InitialConnection');
    const update = await aliceWatch.next('TransactionUpdate');
    const rows = update.querySets[0]?.tables[0]?.rows[0];
    const logged =
      rows?.tag === 'PersistentTable'
        ? decodeRows<{ kind: string }>(db, 'connection_log', rows.value.inserts.rowsData)
        : [];
    expect(logged.map((r) => r.kind)).toEqual(['connected']);
    // Bob's copy of the same query text means his identity: Alice's row is not his.
    await again.close();
    await aliceWatch.next('TransactionUpdate', (u) => u !== update);
    expect(bobWatch.messages.filter((m) => m.tag === 'TransactionUpdate')).toEqual([]);
  });
});
