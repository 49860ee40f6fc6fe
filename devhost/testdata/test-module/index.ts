/**
 * devhost's reference module: a real SpacetimeDB TS module (built with `spacetimedb/server`) that
 * exercises every host feature the datastore and ABI must get right — auto-inc write-back, unique and
 * multi-column indexes, ranges, private/event tables, schedules, lifecycle reducers and each reducer
 * outcome. Only reducers (and the default schema) may be exported: the library rejects any other named
 * export. The network side runs its wire tests against it, so keep names and shapes stable.
 */
import { Range, ScheduleAt, SenderError, schema, t, table } from 'spacetimedb/server';

/** Public; canonical name `person`. */
const person = table(
  {
    name: 'person',
    public: true,
    indexes: [{ accessor: 'byTeamLevel', algorithm: 'btree', columns: ['team', 'level'] }],
  },
  {
    id: t.u64().primaryKey().autoInc(),
    name: t.string().unique(),
    age: t.u32().index('btree'),
    team: t.string(),
    level: t.u32(),
  },
);

/** Private, no explicit name: canonical `secret_note` via snake_case conversion. */
const secretNote = table(
  { public: false },
  {
    id: t.u64().primaryKey().autoInc(),
    owner: t.identity(),
    text: t.string(),
  },
);

/** One row per lifecycle event, written by clientConnected/clientDisconnected. */
const connectionLog = table(
  { name: 'connection_log', public: true },
  {
    id: t.u64().primaryKey().autoInc(),
    kind: t.string(),
    sender: t.identity(),
    connectionId: t.option(t.connectionId()),
  },
);

/** Named counters (init, ticks, query results): the observable output of several reducers. */
const counter = table({ name: 'counter', public: true }, { name: t.string().primaryKey(), value: t.u64() });

/** Rows written by the one-shot scheduled reducer. */
const message = table(
  { name: 'message', public: true },
  { id: t.u64().primaryKey().autoInc(), text: t.string(), sender: t.identity() },
);

/** Large rows, for the iterator buffer-too-small path. */
const blob = table(
  { name: 'blob', public: true },
  { id: t.u64().primaryKey().autoInc(), data: t.byteArray() },
);

/** Identities whose connection clientConnected rejects. */
const banned = table({ name: 'banned', public: false }, { identity: t.identity().primaryKey() });

/** Event table: rows reach subscribers but never the committed state. */
const notice = table({ name: 'notice', public: true, event: true }, { text: t.string() });

const tickSchedule = table(
  { name: 'tick_schedule', public: true },
  { scheduledId: t.u64().primaryKey().autoInc(), scheduledAt: t.scheduleAt() },
);

const oneShotSchedule = table(
  { name: 'one_shot_schedule', public: true },
  { scheduledId: t.u64().primaryKey().autoInc(), scheduledAt: t.scheduleAt(), note: t.string() },
);

/**
 * The shape of SpacetimeDB's case-conversion test module: digit boundaries in table, column and
 * reducer names, an explicit canonical table name, a nested product column, and a join on an indexed
 * column (the query builder's `rightSemijoin` / `leftSemijoin`).
 */
const Person2Info = t.object('Person2Info', { AgeValue1: t.u8(), ScoreTotal: t.u32() });

const player1 = table(
  { name: 'Player1Canonical', public: true },
  { Player1Id: t.u32().primaryKey().autoInc(), player_name: t.string(), currentLevel2: t.u32() },
);

const person2 = table(
  { public: true },
  {
    Person2Id: t.u32().primaryKey().autoInc(),
    FirstName: t.string(),
    playerRef: t.u32().index(),
    personInfo: Person2Info,
  },
);

const spacetimedb = schema({
  person,
  secretNote,
  connectionLog,
  counter,
  message,
  blob,
  banned,
  notice,
  tickSchedule,
  oneShotSchedule,
  player1,
  person2,
});
export default spacetimedb;

type Ctx = Parameters<Parameters<typeof spacetimedb.reducer>[1]>[0];

function setCounter(ctx: Ctx, name: string, value: bigint): void {
  if (ctx.db.counter.name.find(name)) ctx.db.counter.name.update({ name, value });
  else ctx.db.counter.insert({ name, value });
}

export const init = spacetimedb.init((ctx) => {
  ctx.db.counter.insert({ name: 'init', value: 1n });
  ctx.db.message.insert({ id: 0n, text: 'init', sender: ctx.sender });
});

export const onConnect = spacetimedb.clientConnected((ctx) => {
  if (ctx.db.banned.identity.find(ctx.sender)) throw new SenderError('banned');
  ctx.db.connectionLog.insert({
    id: 0n,
    kind: 'connected',
    sender: ctx.sender,
    connectionId: ctx.connectionId ?? undefined,
  });
});

export const onDisconnect = spacetimedb.clientDisconnected((ctx) => {
  ctx.db.connectionLog.insert({
    id: 0n,
    kind: 'disconnected',
    sender: ctx.sender,
    connectionId: ctx.connectionId ?? undefined,
  });
});

export const addPerson = spacetimedb.reducer(
  { name: t.string(), age: t.u32(), team: t.string(), level: t.u32() },
  (ctx, { name, age, team, level }) => {
    ctx.db.person.insert({ id: 0n, name, age, team, level });
  },
);

export const renamePerson = spacetimedb.reducer({ id: t.u64(), name: t.string() }, (ctx, { id, name }) => {
  const row = ctx.db.person.id.find(id);
  if (!row) throw new SenderError(`no person ${id}`);
  ctx.db.person.id.update({ ...row, name });
});

export const deletePerson = spacetimedb.reducer({ id: t.u64() }, (ctx, { id }) => {
  ctx.db.person.id.delete(id);
});

export const deleteAgeRange = spacetimedb.reducer({ min: t.u32(), max: t.u32() }, (ctx, { min, max }) => {
  const n = ctx.db.person.age.delete(
    new Range({ tag: 'included', value: min }, { tag: 'excluded', value: max }),
  );
  setCounter(ctx, 'deleted', BigInt(n));
});

/** Writes the names in [min, max) age order to the `age_range` message rows and their count to a counter. */
export const queryAgeRange = spacetimedb.reducer({ min: t.u32(), max: t.u32() }, (ctx, { min, max }) => {
  const rows = [
    ...ctx.db.person.age.filter(new Range({ tag: 'included', value: min }, { tag: 'excluded', value: max })),
  ];
  setCounter(ctx, 'age_range', BigInt(rows.length));
  ctx.db.message.insert({ id: 0n, text: rows.map((r) => r.name).join(','), sender: ctx.sender });
});

export const queryAge = spacetimedb.reducer({ age: t.u32() }, (ctx, { age }) => {
  setCounter(ctx, 'age_eq', BigInt([...ctx.db.person.age.filter(age)].length));
});

/** Multi-column index: full key (point), prefix (team only), prefix + range on level. */
export const queryTeam = spacetimedb.reducer(
  { team: t.string(), level: t.u32(), minLevel: t.u32() },
  (ctx, { team, level, minLevel }) => {
    setCounter(ctx, 'team_point', BigInt([...ctx.db.person.byTeamLevel.filter([team, level])].length));
    setCounter(ctx, 'team_prefix', BigInt([...ctx.db.person.byTeamLevel.filter(team)].length));
    const range = new Range<number>({ tag: 'included', value: minLevel }, { tag: 'unbounded' });
    setCounter(ctx, 'team_min_level', BigInt([...ctx.db.person.byTeamLevel.filter([team, range])].length));
  },
);

export const addSecret = spacetimedb.reducer({ text: t.string() }, (ctx, { text }) => {
  ctx.db.secretNote.insert({ id: 0n, owner: ctx.sender, text });
});

export const banIdentity = spacetimedb.reducer({ identity: t.identity() }, (ctx, { identity }) => {
  ctx.db.banned.insert({ identity });
});

export const failWithSenderError = spacetimedb.reducer({ message: t.string() }, (_ctx, { message }) => {
  throw new SenderError(message);
});

export const failWithError = spacetimedb.reducer({ message: t.string() }, (_ctx, { message }) => {
  throw new Error(message);
});

/** Writes, then throws: every write must be rolled back. */
export const insertThenFail = spacetimedb.reducer({ name: t.string() }, (ctx, { name }) => {
  ctx.db.person.insert({ id: 0n, name, age: 1, team: 'rollback', level: 1 });
  ctx.db.counter.insert({ name: `rollback-${name}`, value: 1n });
  throw new Error('after insert');
});

/** Inserts `name` twice: the second insert violates person.name's unique constraint (errno 12). */
export const addDuplicateName = spacetimedb.reducer({ name: t.string() }, (ctx, { name }) => {
  ctx.db.person.insert({ id: 0n, name, age: 2, team: 'dup', level: 1 });
  ctx.db.person.insert({ id: 0n, name, age: 3, team: 'dup', level: 2 });
});

export const addBlobs = spacetimedb.reducer({ count: t.u32(), size: t.u32() }, (ctx, { count, size }) => {
  for (let i = 0; i < count; i++) ctx.db.blob.insert({ id: 0n, data: new Uint8Array(size).fill(i & 0xff) });
});

/** Scans every blob and records the total byte count (exercises iterator buffer growth). */
export const scanBlobs = spacetimedb.reducer((ctx) => {
  let total = 0n;
  for (const b of ctx.db.blob.iter()) total += BigInt(b.data.length);
  setCounter(ctx, 'blob_bytes', total);
  setCounter(ctx, 'blob_count', ctx.db.blob.count());
});

export const emitNotice = spacetimedb.reducer({ text: t.string() }, (ctx, { text }) => {
  ctx.db.notice.insert({ text });
});

export const startTicker = spacetimedb.reducer({ intervalMicros: t.u64() }, (ctx, { intervalMicros }) => {
  ctx.db.tickSchedule.insert({ scheduledId: 0n, scheduledAt: ScheduleAt.interval(intervalMicros) });
});

export const stopTickers = spacetimedb.reducer((ctx) => {
  for (const row of [...ctx.db.tickSchedule.iter()]) ctx.db.tickSchedule.scheduledId.delete(row.scheduledId);
});

export const scheduleOnce = spacetimedb.reducer(
  { delayMicros: t.u64(), note: t.string() },
  (ctx, { delayMicros, note }) => {
    const at = ctx.timestamp.microsSinceUnixEpoch + delayMicros;
    ctx.db.oneShotSchedule.insert({ scheduledId: 0n, scheduledAt: ScheduleAt.time(at), note });
  },
);

export const tick = spacetimedb.reducer(
  { onSchedule: tickSchedule },
  { arg: tickSchedule.rowType },
  (ctx) => {
    const current = ctx.db.counter.name.find('ticks')?.value ?? 0n;
    setCounter(ctx, 'ticks', current + 1n);
  },
);

export const oneShot = spacetimedb.reducer(
  { onSchedule: oneShotSchedule },
  { arg: oneShotSchedule.rowType },
  (ctx, { arg }) => {
    ctx.db.message.insert({ id: 0n, text: `one-shot:${arg.note}`, sender: ctx.sender });
  },
);

export const createPlayer1 = spacetimedb.reducer(
  { Player1Name: t.string(), Start2Level: t.u32() },
  (ctx, { Player1Name, Start2Level }) => {
    ctx.db.player1.insert({ Player1Id: 0, player_name: Player1Name, currentLevel2: Start2Level });
  },
);

export const addPerson2 = spacetimedb.reducer(
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

export const removePerson2 = spacetimedb.reducer({ Person2Id: t.u32() }, (ctx, { Person2Id }) => {
  ctx.db.person2.Person2Id.delete(Person2Id);
});

export const setLevel2 = spacetimedb.reducer(
  { Player1Id: t.u32(), Level2: t.u32() },
  (ctx, { Player1Id, Level2 }) => {
    const player = ctx.db.player1.Player1Id.find(Player1Id);
    if (!player) throw new SenderError(`no player ${Player1Id}`);
    ctx.db.player1.Player1Id.update({ ...player, currentLevel2: Level2 });
  },
);
