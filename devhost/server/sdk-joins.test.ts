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

// The official client writes `(player, person) => player.player1Id.eq(person.playerRef)`. These bindings
// do not yet declare column-level indexes, so `person.playerRef` is not typed as indexed (the SDK passes
// every column either way): the same column is taken from the table's row expression instead.
const playerRef = tables.person2.cols.playerRef;

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
        if (person.FirstName === `JoinPerson-${protocol}`)
          resolve({
            firstName: person.FirstName,
            age: person.personInfo.AgeValue1,
            score: person.personInfo.ScoreTotal,
          });
      });
    });
    client.conn.db.player1.onInsert((_ctx, player) => {
      if (player.player_name === `JoinedPlayer-${protocol}`)
        void client.conn.reducers.addPerson2({
          First3Name: `JoinPerson-${protocol}`,
          playerRef: player.Player1Id,
          AgeValue: 30,
          ScoreTotal: 500,
        });
    });
    await subscribed(client, [
      tables.player1.rightSemijoin(tables.person2, (player) => player.Player1Id.eq(playerRef)),
      tables.player1,
    ]);
    await client.conn.reducers.createPlayer1({ Player1Name: `JoinedPlayer-${protocol}`, Start2Level: 7 });
    expect(await arrived).toEqual({ firstName: `JoinPerson-${protocol}`, age: 30, score: 500 });
  });

  it('leftSemijoin: a player is in the result exactly while some person refers to it', async () => {
    const writer = await connect();
    const name = (n: string) => `left-${protocol}-${n}`;
    await writer.conn.reducers.createPlayer1({ Player1Name: name('lonely'), Start2Level: 1 });
    await writer.conn.reducers.createPlayer1({ Player1Name: name('joined'), Start2Level: 1 });
    const idOf = (n: string) =>
      [...writer.conn.db.player1.iter()].find((p) => p.player_name === name(n))?.Player1Id;
    await subscribed(writer, [tables.player1]);
    const joinedId = idOf('joined') as number;
    await writer.conn.reducers.addPerson2({
      First3Name: name('p'),
      playerRef: joinedId,
      AgeValue: 1,
      ScoreTotal: 1,
    });

    const reader = await connect();
    const mine = () =>
      [...reader.conn.db.player1.iter()].map((p) => p.player_name).filter((n) => n.startsWith(name('')));
    await subscribed(reader, [
      tables.player1.leftSemijoin(tables.person2, (player) => player.Player1Id.eq(playerRef)),
    ]);
    expect(mine()).toEqual([name('joined')]);

    // A second person for the lonely player brings it in; removing it takes it out again.
    const lonelyId = idOf('lonely') as number;
    await writer.conn.reducers.addPerson2({
      First3Name: name('q'),
      playerRef: lonelyId,
      AgeValue: 1,
      ScoreTotal: 1,
    });
    await expect.poll(() => mine().sort()).toEqual([name('joined'), name('lonely')].sort());
    await subscribed(writer, [tables.person2]);
    const q = [...writer.conn.db.person2.iter()].find((p) => p.FirstName === name('q'));
    await writer.conn.reducers.removePerson2({ Person2Id: q?.Person2Id as number });
    await expect.poll(() => mine()).toEqual([name('joined')]);
  });

  it("a filter on the other table decides too: persons of level-2 players follow the player's level", async () => {
    const writer = await connect();
    const tag = `lvl-${protocol}`;
    await writer.conn.reducers.createPlayer1({ Player1Name: tag, Start2Level: 1 });
    await subscribed(writer, [tables.player1]);
    const player = [...writer.conn.db.player1.iter()].find((p) => p.player_name === tag);
    const id = player?.Player1Id as number;
    await writer.conn.reducers.addPerson2({
      First3Name: `${tag}-a`,
      playerRef: id,
      AgeValue: 1,
      ScoreTotal: 1,
    });
    await writer.conn.reducers.addPerson2({
      First3Name: `${tag}-b`,
      playerRef: id,
      AgeValue: 1,
      ScoreTotal: 1,
    });

    const reader = await connect();
    const mine = () =>
      [...reader.conn.db.person2.iter()]
        .map((p) => p.FirstName)
        .filter((n) => n.startsWith(tag))
        .sort();
    await subscribed(reader, [
      tables.player1
        .where((p) => p.currentLevel2.eq(2))
        .rightSemijoin(tables.person2, (p) => p.Player1Id.eq(playerRef)),
    ]);
    expect(mine()).toEqual([]);
    await writer.conn.reducers.setLevel2({ Player1Id: id, Level2: 2 });
    await expect.poll(mine).toEqual([`${tag}-a`, `${tag}-b`]);
    await writer.conn.reducers.setLevel2({ Player1Id: id, Level2: 3 });
    await expect.poll(mine).toEqual([]);
  });
});
