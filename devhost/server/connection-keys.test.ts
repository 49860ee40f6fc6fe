/**
 * Clients are keyed by (identity, connection id), as SpacetimeDB keys them (`ClientActorId`, the
 * subscription manager's `ClientId`): the `connection_id` query parameter is the client's choice, so
 * another identity reusing a victim's id must not displace the victim (security audit finding 6).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevhostDatabase } from '../host/index.js';
import { type DevhostServer, startServer } from './index.js';
import { openTestDatabase, RawClient, reducerArgs, registry } from './testing/e2e-harness.js';

let db: DevhostDatabase;
let server: DevhostServer;
const clients: RawClient[] = [];

beforeAll(async () => {
  db = await openTestDatabase('keys');
  server = await startServer({ databases: registry(db) });
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await server.close();
  await db.close();
});

async function mintToken(): Promise<string> {
  const res = await fetch(`${server.url}/v1/identity`, { method: 'POST' });
  return ((await res.json()) as { token: string }).token;
}

async function open(query: Record<string, string>): Promise<RawClient> {
  const c = await RawClient.open(server.url, 'keys', { query });
  clients.push(c);
  return c;
}

let requestId = 1;
function addPerson(c: RawClient, name: string): number {
  const id = requestId++;
  c.send({
    tag: 'CallReducer',
    value: {
      requestId: id,
      flags: 0,
      reducer: 'add_person',
      args: reducerArgs(db, 'add_person', { name, age: 1, team: 't', level: 1 }),
    },
  });
  return id;
}

const updates = (c: RawClient) => c.messages.filter((m) => m.tag === 'TransactionUpdate').length;

describe('connection ids', () => {
  it('chosen by another identity do not displace the victim’s live updates', async () => {
    const victim = await open({ connection_id: 'deadbeef', token: await mintToken() });
    await victim.next('InitialConnection');
    victim.send({
      tag: 'Subscribe',
      value: {
        requestId: requestId++,
        querySetId: { id: 1 },
        queryStrings: ["SELECT * FROM person WHERE team = 't'"],
      },
    });
    await victim.next('SubscribeApplied');
    const writer = await open({});
    await writer.next('InitialConnection');

    const intruder = await open({ connection_id: 'deadbeef' });
    await intruder.next('InitialConnection');
    const a = addPerson(writer, 'hijack-1');
    await writer.next('ReducerResult', (r) => r.requestId === a);
    await expect.poll(() => updates(victim)).toBe(1);

    await intruder.close();
    const b = addPerson(writer, 'hijack-2');
    await writer.next('ReducerResult', (r) => r.requestId === b);
    await expect.poll(() => updates(victim)).toBe(2);
  });

  it('are refused for a second socket of the same identity while the first is live, which keeps working', async () => {
    const token = await mintToken();
    const first = await open({ connection_id: 'feedface', token });
    await first.next('InitialConnection');
    const second = await open({ connection_id: 'feedface', token });
    await second.closed;
    expect(second.messages.some((m) => m.tag === 'InitialConnection')).toBe(false);
    const id = addPerson(first, 'still-here');
    const result = await first.next('ReducerResult', (r) => r.requestId === id);
    expect(result.result.tag).toBe('Ok');
  });
});
