/**
 * Subscription joins through the unmodified SDK's query builder (`rightSemijoin` / `leftSemijoin`),
 * on the reference module's case-conversion tables (digit boundaries, an explicit canonical name):
 * SpacetimeDB's own case-conversion client's join test, and rows entering and leaving a join's result
 * as either table changes.
 */
import type { toSql } from 'spacetimedb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DevhostDatabase } from '../host/index.js';
import { tables } from '../testdata/test-module-bindings/index.js';
import { type DevhostServer, startServer } from './index.js';
import {
  connectSdk,
  installSdkWebSocket,
  openTestDatabase,
  registry,
  type SdkClient,
} from './testing/e2e-harness.js';

installSdkWebSocket();

/** A query built with the SDK's query builder. */
type Query = Parameters<typeof toSql>[0];

describe.each(['v3', 'v2'] as const)('SDK joins over %s', (protocol) => {
  let db: DevhostDatabase;
  let server: DevhostServer;
  const open: SdkClient[] = [];
  const connect = async () => {
    const client = await connectSdk(server.url, 'main', { protocol });
    open.push(client);
    return client;
  };
  const subscribed = (client: SdkClient, queries: Query[]) =>
    new Promise<void>((resolve, reject) =>
      client.conn
        .subscriptionBuilder()
        .onApplied(() => resolve())
        .onError((ctx) => reject(ctx.event ?? new Error('subscription failed')))
        .subscribe(queries),
    );

  beforeAll(async () => {
    db = await openTestDatabase('main');
    server = await startServer({ databases: registry(db) });
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.conn.disconnect();
  });
  afterAll(async () => {
    await server.close();
    await db.close();
  });

  it("passes SpacetimeDB's case-conversion join test: a person joined to a new player arrives with its fields", async () => {
    const client = await connect();
    const arrived = new Promise<{ firstName: string; age: number; score: number }>((resolve) => {
      client.conn.db.person2.onInsert((_ctx, person) => {
        if (person.firstName === `JoinPerson-${protocol}`)
          resolve({
            firstName: person.firstName,
            age: person.personInfo.ageValue1,
            score: person.personInfo.scoreTotal,
          });
      });
    });
    client.conn.db.player1.onInsert((_ctx, player) => {
      if (player.playerName === `JoinedPlayer-${protocol}`)
        void client.conn.reducers.addPerson2({
          first3Name: `JoinPerson-${protocol}`,
          playerRef: player.player1Id,
          ageValue: 30,
          scoreTotal: 500,
        });
    });
    await subscribed(client, [
      tables.player1.rightSemijoin(tables.person2, (player, person) => player.player1Id.eq(person.playerRef)),
      tables.player1,
    ]);
    await client.conn.reducers.createPlayer1({ player1Name: `JoinedPlayer-${protocol}`, start2Level: 7 });
    expect(await arrived).toEqual({ firstName: `JoinPerson-${protocol}`, age: 30, score: 500 });
  });

  it('leftSemijoin: a player is in the result exactly while some person refers to it', async () => {
    const writer = await connect();
    const name = (n: string) => `left-${protocol}-${n}`;
    await writer.conn.reducers.createPlayer1({ player1Name: name('lonely'), start2Level: 1 });
    await writer.conn.reducers.createPlayer1({ player1Name: name('joined'), start2Level: 1 });
    const idOf = (n: string) =>
      [...writer.conn.db.player1.iter()].find((p) => p.playerName === name(n))?.player1Id;
    await subscribed(writer, [tables.player1]);
    const joinedId = idOf('joined') as number;
    await writer.conn.reducers.addPerson2({
      first3Name: name('p'),
      playerRef: joinedId,
      ageValue: 1,
      scoreTotal: 1,
    });

    const reader = await connect();
    const mine = () =>
      [...reader.conn.db.player1.iter()].map((p) => p.playerName).filter((n) => n.startsWith(name('')));
    await subscribed(reader, [
      tables.player1.leftSemijoin(tables.person2, (player, person) => player.player1Id.eq(person.playerRef)),
    ]);
    expect(mine()).toEqual([name('joined')]);

    // A second person for the lonely player brings it in; removing it takes it out again.
    const lonelyId = idOf('lonely') as number;
    await writer.conn.reducers.addPerson2({
      first3Name: name('q'),
      playerRef: lonelyId,
      ageValue: 1,
      scoreTotal: 1,
    });
    await expect.poll(() => mine().sort()).toEqual([name('joined'), name('lonely')].sort());
    await subscribed(writer, [tables.person2]);
    const q = [...writer.conn.db.person2.iter()].find((p) => p.firstName === name('q'));
    await writer.conn.reducers.removePerson2({ person2Id: q?.person2Id as number });
    await expect.poll(() => mine()).toEqual([name('joined')]);
  });

  it("a filter on the other table decides too: persons of level-2 players follow the player's level", async () => {
    const writer = await connect();
    const tag = `lvl-${protocol}`;
    await writer.conn.reducers.createPlayer1({ player1Name: tag, start2Level: 1 });
    await subscribed(writer, [tables.player1]);
    const player = [...writer.conn.db.player1.iter()].find((p) => p.playerName === tag);
    const id = player?.player1Id as number;
    await writer.conn.reducers.addPerson2({
      first3Name: `${tag}-a`,
      playerRef: id,
      ageValue: 1,
      scoreTotal: 1,
    });
    await writer.conn.reducers.addPerson2({
      first3Name: `${tag}-b`,
      playerRef: id,
      ageValue: 1,
      scoreTotal: 1,
    });

    const reader = await connect();
    const mine = () =>
      [...reader.conn.db.person2.iter()]
        .map((p) => p.firstName)
        .filter((n) => n.startsWith(tag))
        .sort();
    await subscribed(reader, [
      tables.player1
        .where((p) => p.currentLevel2.eq(2))
        .rightSemijoin(tables.person2, (p, person) => p.player1Id.eq(person.playerRef)),
    ]);
    expect(mine()).toEqual([]);
    await writer.conn.reducers.setLevel2({ player1Id: id, level2: 2 });
    await expect.poll(mine).toEqual([`${tag}-a`, `${tag}-b`]);
    await writer.conn.reducers.setLevel2({ player1Id: id, level2: 3 });
    await expect.poll(mine).toEqual([]);
  });
});
