/**
 * What each identity sees through each subscription shape clients use (issue 14 "Done when"), on
 * devhost with the real module's row-level security: every identity of the module world
 * (test/support/module-identities.ts) subscribes to each query; the rows it gets are exactly the
 * ones it may see (none where it may see none), and a private table's subscription is refused to
 * everyone but the owner. The live shapes (event tables) are checked on a write made after
 * subscribing, each client fenced by a later cutover move every identity sees, so "received nothing"
 * means nothing was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbConnection } from '../../module/bindings/index.js';
import { rejection, subscribe } from '../support/devhost-harness.js';
import {
  MODULE_IDENTITIES,
  type ModuleIdentity,
  type ModuleWorld,
  SEEDED,
  startModuleWorld,
} from '../support/module-identities.js';
import { eventInput } from '../support/sync-events.js';

let world: ModuleWorld;
const slugOf = (who: string) => who.replace(/\W+/g, '-');

const move = (toStage: string) => ({
  move: toStage === 'legacy_only' ? 'rollback' : 'advance',
  toStage,
  toPercent: 0,
  expectedRevision: undefined,
  reason: 'matrix',
  actor: 'matrix',
  gateReadings: '',
  rollbackDelegate: undefined,
});

beforeAll(async () => {
  world = await startModuleWorld();
  const owner = world.as.owner.conn.reducers;
  await owner.appendSyncEvents({
    events: [eventInput('m:c', 'c1')],
    cursor: {
      consumerGroup: 'g',
      topic: 'authority.events',
      partition: 0,
      nextOffset: 1n,
      fromOffset: undefined,
    },
  });
  // A pipelining publisher's cursor (no events: the call only moves it).
  await owner.appendPublisherEvents({ events: [], publisher: { publisherId: 'pub-m', publisherSeq: 1n } });
  await world.as['token reader of m:a'].conn.reducers.ackCheckpoint({
    clientId: 'desk-a',
    streamId: SEEDED.a,
    ackedSeq: 1n,
    epoch: 1n,
  });
  await world.as['granted reader of m:b'].conn.reducers.ackCheckpoint({
    clientId: 'desk-b',
    streamId: SEEDED.b,
    ackedSeq: 1n,
    epoch: 1n,
  });
  for (const who of MODULE_IDENTITIES)
    if (who !== 'revoked session')
      await world.as[who].conn.reducers.upsertPresence({
        sessionId: `p-${slugOf(who)}`,
        deviceId: 'd',
        streams: [SEEDED.a],
        state: 'on',
        ttlMs: 600_000,
      });
  await owner.moveCutover(move('shadow'));
  await owner.enqueueBridgeEvent({
    bridgeKey: 'bk-1',
    streamId: SEEDED.a,
    seq: 1n,
    target: SEEDED.bridgeTarget,
    kind: 1,
    payload: new Uint8Array([1]),
    maxAttempts: 3,
  });
}, 120_000);
afterAll(() => world?.close());

type Db = DbConnection['db'];

interface Shape {
  readonly query: string;
  /** The rows a subscriber holds, as sorted strings. */
  readonly rows: (db: Db) => string[];
  /** What each identity must see; 'refused': the subscription itself is refused. */
  readonly sees: Record<ModuleIdentity, readonly string[] | 'refused'>;
}

/** `rows` for the listed identities, nothing for everyone else. */
function seenBy(
  rows: Partial<Record<ModuleIdentity, readonly string[]>>,
): Record<ModuleIdentity, readonly string[]> {
  return Object.fromEntries(MODULE_IDENTITIES.map((who) => [who, rows[who] ?? []])) as Record<
    ModuleIdentity,
    readonly string[]
  >;
}

const sorted = (xs: Iterable<string>) => [...xs].sort();
const ALL_STREAMS = ['m:a', 'm:b', 'm:c'];
const presenceOf = (who: ModuleIdentity) => [`p-${slugOf(who)}`];

const SHAPES: Shape[] = [
  {
    query: 'SELECT * FROM sync_event',
    rows: (db) => sorted([...db.syncEvent.iter()].map((e) => e.streamId)),
    // Writers append and see heads, not events: they read events only where granted.
    sees: seenBy({
      owner: ALL_STREAMS,
      'token reader of m:a': ['m:a'],
      'granted reader of m:b': ['m:b'],
    }),
  },
  {
    query: "SELECT * FROM sync_event WHERE stream_id = 'm:b' AND seq > 0",
    rows: (db) => sorted([...db.syncEvent.iter()].map((e) => e.streamId)),
    sees: seenBy({ owner: ['m:b'], 'granted reader of m:b': ['m:b'] }),
  },
  {
    query: 'SELECT * FROM sync_stream',
    rows: (db) => sorted([...db.syncStream.iter()].map((s) => s.streamId)),
    sees: seenBy({
      owner: ALL_STREAMS,
      writer: ALL_STREAMS,
      'token reader of m:a': ['m:a'],
      'granted reader of m:b': ['m:b'],
    }),
  },
  {
    query: "SELECT * FROM sync_stream WHERE stream_id = 'm:a'",
    rows: (db) => sorted([...db.syncStream.iter()].map((s) => s.streamId)),
    sees: seenBy({ owner: ['m:a'], writer: ['m:a'], 'token reader of m:a': ['m:a'] }),
  },
  {
    query: 'SELECT * FROM sync_checkpoint',
    rows: (db) => sorted([...db.syncCheckpoint.iter()].map((c) => `${c.clientId}/${c.streamId}`)),
    sees: seenBy({
      owner: ['desk-a/m:a', 'desk-b/m:b'],
      'token reader of m:a': ['desk-a/m:a'],
      'granted reader of m:b': ['desk-b/m:b'],
    }),
  },
  {
    query: 'SELECT * FROM session_presence',
    rows: (db) => sorted([...db.sessionPresence.iter()].map((p) => p.sessionId)),
    sees: {
      ...(Object.fromEntries(MODULE_IDENTITIES.map((who) => [who, presenceOf(who)])) as Record<
        ModuleIdentity,
        string[]
      >),
      owner: sorted(MODULE_IDENTITIES.filter((w) => w !== 'revoked session').flatMap(presenceOf)),
      'revoked session': [],
    },
  },
  {
    query: 'SELECT * FROM token_session',
    rows: (db) =>
      sorted([...db.tokenSession.iter()].map((s) => `${s.sessionId}${s.revoked ? ' (revoked)' : ''}`)),
    // Another issuer's token opens no session: the module was never told to trust it.
    sees: seenBy({
      owner: [SEEDED.readerSession, 'sess-revoked (revoked)'],
      'token reader of m:a': [SEEDED.readerSession],
      'revoked session': ['sess-revoked (revoked)'],
    }),
  },
  {
    query: 'SELECT * FROM source_cursor',
    rows: (db) =>
      sorted([...db.sourceCursor.iter()].map((c) => `${c.consumerGroup}/${c.topic}/${c.partition}`)),
    sees: seenBy({ owner: ['g/authority.events/0'], writer: ['g/authority.events/0'] }),
  },
  {
    query: 'SELECT * FROM publisher_cursor',
    rows: (db) => sorted([...db.publisherCursor.iter()].map((c) => `${c.publisherId}@${c.lastSeq}`)),
    // Publisher ids name the runtime services that publish: writers only.
    sees: seenBy({ owner: ['pub-m@1'], writer: ['pub-m@1'] }),
  },
  {
    query: 'SELECT * FROM cutover_state',
    rows: (db) => [...db.cutoverState.iter()].map((s) => s.stage),
    // Public on purpose: every client reads which lane it is on.
    sees: Object.fromEntries(MODULE_IDENTITIES.map((who) => [who, ['shadow']])) as Record<
      ModuleIdentity,
      string[]
    >,
  },
  {
    query: 'SELECT * FROM cutover_audit',
    rows: (db) => [...db.cutoverAudit.iter()].map((a) => `${a.fromStage}->${a.toStage}`),
    sees: seenBy({ owner: ['legacy_only->shadow'], writer: ['legacy_only->shadow'] }),
  },
  {
    query: 'SELECT * FROM bridge_outbox',
    rows: (db) => sorted([...db.bridgeOutbox.iter()].map((o) => o.bridgeKey)),
    sees: seenBy({ owner: ['bk-1'], 'bridge worker': ['bk-1'] }),
  },
  {
    query: 'SELECT * FROM stream_grant',
    rows: (db) => sorted([...db.streamGrant.iter()].map((g) => g.streamId)),
    sees: {
      ...(Object.fromEntries(MODULE_IDENTITIES.map((who) => [who, 'refused'])) as Record<
        ModuleIdentity,
        'refused'
      >),
      owner: ['m:b'],
    },
  },
];

/** Subscribes `conn` to one query: its rows once applied, or 'refused'; unsubscribed again after. */
async function snapshot(who: ModuleIdentity, shape: Shape): Promise<string[] | 'refused'> {
  const conn = world.as[who].conn;
  let handle: ReturnType<ReturnType<DbConnection['subscriptionBuilder']>['subscribe']> | undefined;
  const refused = await rejection(
    new Promise<void>((resolve, reject) => {
      handle = conn
        .subscriptionBuilder()
        .onApplied(() => resolve())
        .onError((ctx) => reject(ctx.event ?? new Error('subscription failed')))
        .subscribe([shape.query]);
    }),
  );
  if (refused !== undefined) return 'refused';
  const rows = shape.rows(conn.db);
  // The client cache holds every subscription's rows: the next shape starts from an empty one.
  await new Promise<void>((resolve) => handle?.unsubscribeThen(() => resolve()));
  return rows;
}

describe('subscription authorization matrix', () => {
  const cells = SHAPES.flatMap((shape) => MODULE_IDENTITIES.map((who) => [shape.query, who, shape] as const));
  it.each(cells)('%s as %s', async (_query, who, shape) => {
    expect(await snapshot(who, shape)).toEqual(shape.sees[who]);
  });

  it('live shapes: a new event and its receipt reach exactly those who may see them', async () => {
    const live: Record<string, string[]> = {};
    const receipts: Record<string, string[]> = {};
    const fenced: Record<string, boolean> = {};
    for (const who of MODULE_IDENTITIES) {
      const conn = world.as[who].conn;
      live[who] = [];
      receipts[who] = [];
      fenced[who] = false;
      conn.db.syncEventLive.onInsert((_ctx, e) => live[who]?.push(`${e.streamId}/${e.idempotencyKey}`));
      conn.db.appendReceipt.onInsert((_ctx, r) => receipts[who]?.push(`${r.streamId}/${r.idempotencyKey}`));
      conn.db.cutoverState.onUpdate((_ctx, _old, s) => {
        if (s.stage === 'legacy_only') fenced[who] = true;
      });
      await subscribe(conn, [
        "SELECT * FROM sync_event_live WHERE stream_id = 'm:a'",
        'SELECT * FROM append_receipt',
        'SELECT * FROM cutover_state',
      ]);
    }
    await world.as.writer.conn.reducers.appendSyncEvent({ event: eventInput(SEEDED.a, 'a2') });
    // The fence: a later transaction every identity sees; once a client has it, it has all before it.
    await world.as.owner.conn.reducers.moveCutover(move('legacy_only'));
    await expect.poll(() => MODULE_IDENTITIES.filter((w) => !fenced[w]), { timeout: 10_000 }).toEqual([]);
    expect(live).toEqual(
      seenBy({ owner: ['m:a/a2'], 'token reader of m:a': ['m:a/a2'] }) as unknown as Record<string, string[]>,
    );
    // A receipt goes to its caller alone (the owner sees every row).
    expect(receipts).toEqual(
      seenBy({ owner: ['m:a/a2'], writer: ['m:a/a2'] }) as unknown as Record<string, string[]>,
    );
  });
});
