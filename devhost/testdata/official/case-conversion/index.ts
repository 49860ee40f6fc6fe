/**
 * A TypeScript equivalent of SpacetimeDB's case-conversion test module (modules/sdk-test-case-conversion
 * at v2.8.3, Rust), whose `spacetime generate --lang typescript` output is checked into that repository
 * (crates/bindings-typescript/case-conversion-test-client/src/module_bindings): table accessors
 * `player1`/`person2` with an explicit canonical name, columns and arguments whose names cross
 * digit and case boundaries, a named enum and struct, and an explicitly named reducer. The module's
 * view (`Level2Person`) is left out: devhost does not host views. Used by
 * devhost/codegen/official-drift.test.ts.
 */
import { schema, t, table } from 'spacetimedb/server';

const Player2Status = t.enum('Player2Status', { Active1: t.unit(), BannedUntil: t.u32() });

const Person3Info = t.object('Person3Info', { AgeValue1: t.u8(), ScoreTotal: t.u32() });

const player1 = table(
  { name: 'Player1Canonical', public: true },
  t.row('Player1', {
    Player1Id: t.u32().primaryKey().autoInc(),
    player_name: t.string(),
    currentLevel2: t.u32(),
    status3Field: Player2Status,
  }),
);

const person2 = table(
  { public: true },
  t.row('Person2', {
    Person2Id: t.u32().primaryKey().autoInc(),
    FirstName: t.string(),
    playerRef: t.u32().index('btree'),
    personInfo: Person3Info,
  }),
);

const spacetimedb = schema({ player1, person2 });
export default spacetimedb;

export const CreatePlayer1 = spacetimedb.reducer(
  { Player1Name: t.string(), Start2Level: t.u32() },
  (ctx, { Player1Name, Start2Level }) => {
    ctx.db.player1.insert({
      Player1Id: 0,
      player_name: Player1Name,
      currentLevel2: Start2Level,
      status3Field: { tag: 'Active1' },
    });
  },
);

export const AddPerson2 = spacetimedb.reducer(
  { First3Name: t.string(), playerRef: t.u32(), AgeValue: t.u8(), ScoreTotal: t.u32() },
  (ctx, { First3Name, playerRef, AgeValue, ScoreTotal }) => {
    ctx.db.person2.insert({
      Person2Id: 0,
      FirstName: First3Name,
      playerRef,
      personInfo: { AgeValue1: AgeValue, ScoreTotal },
    });
  },
);

export const BanPlayer1 = spacetimedb.reducer(
  { name: 'banPlayer1' },
  { Player1Id: t.u32(), BanUntil6: t.u32() },
  (ctx, { Player1Id, BanUntil6 }) => {
    const player = ctx.db.player1.Player1Id.find(Player1Id);
    if (player)
      ctx.db.player1.Player1Id.update({ ...player, status3Field: { tag: 'BannedUntil', value: BanUntil6 } });
  },
);
