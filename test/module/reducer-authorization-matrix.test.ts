/**
 * Who may call which reducer of the sync module, cell by cell (issue 14 "Done when"), on devhost
 * running the real module through `spacetimedb/server`: every identity of the module world
 * (test/support/module-identities.ts) against every reducer a client can call. A forbidden cell is
 * refused with the module's `unauthorized` reason and changes nothing the caller could see; an
 * allowed cell works — or, where the arguments are deliberately not satisfiable, gets past the
 * authorization check and fails with the named business reason. Tokens refused at connect (expired,
 * forged) can call nothing at all. Also the escalations a writer must not have: handing out the
 * owner's label (which makes a cutover admin) and revoking the owner.
 */
import { Identity, TimeDuration } from 'spacetimedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connected, connect, rejection } from '../support/devhost-harness.js';
import {
  MODULE_IDENTITIES,
  type ModuleIdentity,
  type ModuleWorld,
  SEEDED,
  startModuleWorld,
} from '../support/module-identities.js';
import { eventInput } from '../support/sync-events.js';

let world: ModuleWorld;
beforeAll(async () => {
  world = await startModuleWorld();
}, 120_000);
afterAll(() => world?.close());

/** 'ok': the call commits; 'denied': refused as unauthorized; a RegExp: past authorization, refused for that reason. */
type Cell = 'ok' | 'denied' | RegExp;

type Reducers = Connected['conn']['reducers'];

interface Row {
  readonly reducer: string;
  readonly call: (r: Reducers, slug: string) => Promise<unknown>;
  readonly cells: Record<ModuleIdentity, Cell>;
}

/** The cells of a reducer only `allowed` may call (`outcome` for them), everyone else denied. */
function only(allowed: readonly ModuleIdentity[], outcome: Cell = 'ok'): Record<ModuleIdentity, Cell> {
  return Object.fromEntries(
    MODULE_IDENTITIES.map((who) => [who, allowed.includes(who) ? outcome : 'denied']),
  ) as Record<ModuleIdentity, Cell>;
}

const every = (cell: Cell) =>
  Object.fromEntries(MODULE_IDENTITIES.map((who) => [who, cell])) as Record<ModuleIdentity, Cell>;

const WRITERS = ['writer', 'owner'] as const;
const CUTOVER_ADMINS = ['owner', 'cutover admin'] as const;
/** A fresh identity no one holds, as the target of grants and revocations. */
const dummy = (slug: string) =>
  Identity.fromString(Buffer.from(`matrix-${slug}`.padEnd(32, '.').slice(0, 32)).toString('hex'));

const ROWS: Row[] = [
  {
    reducer: 'append_sync_event',
    call: (r, slug) => r.appendSyncEvent({ event: eventInput(`m:one-${slug}`, 'k') }),
    cells: only(WRITERS),
  },
  {
    reducer: 'append_sync_events',
    call: (r, slug) => r.appendSyncEvents({ events: [eventInput(`m:many-${slug}`, 'k')], cursor: undefined }),
    cells: only(WRITERS),
  },
  {
    reducer: 'append_publisher_events',
    call: (r, slug) =>
      r.appendPublisherEvents({
        events: [eventInput(`m:pub-${slug}`, 'k')],
        publisher: { publisherId: `pub-${slug}`, publisherSeq: 1n },
      }),
    cells: only(WRITERS),
  },
  {
    reducer: 'ack_checkpoint',
    call: (r, slug) => r.ackCheckpoint({ clientId: slug, streamId: SEEDED.a, ackedSeq: 1n, epoch: 1n }),
    // Writers may read every stream; the token reader its token's; a grant of m:b is not one of m:a.
    cells: only([...WRITERS, 'token reader of m:a']),
  },
  {
    reducer: 'upsert_presence',
    call: (r, slug) =>
      r.upsertPresence({
        sessionId: `p-${slug}`,
        deviceId: 'd',
        streams: [SEEDED.a],
        state: 'on',
        ttlMs: 60_000,
      }),
    // Anyone's own presence; a revoked session's calls are refused.
    cells: { ...only(MODULE_IDENTITIES), 'revoked session': 'denied' },
  },
  {
    reducer: 'configure_stream',
    call: (r) => r.configureStream({ streamId: SEEDED.a, retainMinEvents: 0n, compactByKey: false }),
    cells: only(WRITERS),
  },
  { reducer: 'compact_stream', call: (r) => r.compactStream({ streamId: SEEDED.a }), cells: only(WRITERS) },
  {
    reducer: 'reset_stream',
    call: (r, slug) => r.resetStream({ streamId: `m:one-${slug}` }),
    cells: only(WRITERS),
  },
  {
    reducer: 'grant_writer',
    call: (r, slug) => r.grantWriter({ identity: dummy(slug), label: 'x' }),
    cells: only(WRITERS),
  },
  {
    reducer: 'revoke_writer',
    call: (r, slug) => r.revokeWriter({ identity: dummy(slug) }),
    cells: only(WRITERS),
  },
  {
    reducer: 'grant_stream_read',
    call: (r, slug) => r.grantStreamRead({ reader: dummy(slug), streamId: SEEDED.a }),
    cells: only(WRITERS),
  },
  {
    reducer: 'revoke_stream_read',
    call: (r, slug) => r.revokeStreamRead({ reader: dummy(slug), streamId: SEEDED.a }),
    cells: only(WRITERS),
  },
  {
    reducer: 'trust_token_issuer',
    call: (r, slug) => r.trustTokenIssuer({ issuer: `https://m.example/${slug}`, audience: 'a' }),
    cells: only(WRITERS),
  },
  {
    reducer: 'distrust_token_issuer',
    call: (r, slug) => r.distrustTokenIssuer({ issuer: `https://m.example/${slug}` }),
    cells: only(WRITERS),
  },
  {
    reducer: 'revoke_client_session',
    call: (r, slug) => r.revokeClientSession({ sessionId: `none-${slug}` }),
    cells: only(WRITERS),
  },
  {
    reducer: 'enqueue_bridge_event',
    call: (r, slug) =>
      r.enqueueBridgeEvent({
        bridgeKey: `bk-${slug}`,
        streamId: SEEDED.a,
        seq: 1n,
        target: SEEDED.bridgeTarget,
        kind: 1,
        payload: new Uint8Array([1]),
        maxAttempts: 3,
      }),
    cells: only(WRITERS),
  },
  {
    reducer: 'record_bridge_deliveries',
    call: (r) => r.recordBridgeDeliveries({ target: SEEDED.bridgeTarget, relays: ['r1'], reports: [] }),
    cells: only(['bridge worker']),
  },
  {
    reducer: 'retry_bridge_event',
    call: (r, slug) => r.retryBridgeEvent({ bridgeKey: `bk-${slug}` }),
    // The writer's own event is pending, not failed: past authorization, a conflict.
    cells: only(WRITERS, /^conflict: bridge event .* is pending, not failed/),
  },
  {
    reducer: 'grant_bridge_worker',
    call: (r, slug) => r.grantBridgeWorker({ identity: dummy(slug), target: 'relay-y' }),
    cells: only(WRITERS),
  },
  {
    reducer: 'revoke_bridge_worker',
    call: (r, slug) => r.revokeBridgeWorker({ identity: dummy(slug), target: 'relay-y' }),
    cells: only(WRITERS),
  },
  {
    reducer: 'configure_bridge',
    call: (r) => r.configureBridge({ sentRetentionSeconds: 3600n }),
    cells: only(WRITERS),
  },
  {
    reducer: 'publish_provider_capability',
    call: (r, slug) => r.publishProviderCapability({ providerId: slug, capability: 'c', metadata: '' }),
    cells: only(WRITERS),
  },
  {
    reducer: 'open_compute_assignment',
    call: (r, slug) => r.openComputeAssignment({ requestId: `r-${slug}`, providerId: 'p', detail: '' }),
    cells: only(WRITERS),
  },
  {
    reducer: 'update_compute_assignment',
    call: (r, slug) =>
      r.updateComputeAssignment({
        requestId: `r-${slug}`,
        expectedRevision: 1n,
        status: 'running',
        detail: '',
      }),
    cells: only(WRITERS),
  },
  {
    reducer: 'set_source_policy',
    call: (r) => r.setSourcePolicy({ maxForwardJump: 1n << 40n }),
    cells: only(WRITERS),
  },
  {
    reducer: 'move_cutover',
    call: (r, slug) =>
      r.moveCutover({
        move: 'advance',
        toStage: 'no-such-stage',
        toPercent: 0,
        expectedRevision: undefined,
        reason: 'matrix',
        actor: slug,
        gateReadings: '',
        rollbackDelegate: undefined,
      }),
    // The adapter's writer is no cutover admin. Past authorization, the bogus stage is refused.
    cells: only(CUTOVER_ADMINS, /^invalid: 'no-such-stage'/),
  },
  {
    reducer: 'auto_rollback_cutover',
    call: (r) =>
      r.autoRollbackCutover({
        toStage: 'legacy_only',
        toPercent: 0,
        expectedRevision: 0n,
        reason: '',
        gateReadings: '',
      }),
    // Only the identity an admin delegated the rollback to; no one was.
    cells: only([]),
  },
  {
    reducer: 'hold_auto_rollback_cutover',
    call: (r) =>
      r.holdAutoRollbackCutover({
        toStage: 'shadow',
        toPercent: 0,
        expectedRevision: 0n,
        reason: 'matrix',
        gateReadings: '',
      }),
    // The same: only the delegate may note a held rollback in the audit trail; no one was delegated.
    cells: only([]),
  },
  {
    reducer: 'grant_cutover_admin',
    call: (r, slug) => r.grantCutoverAdmin({ identity: dummy(slug), label: 'x' }),
    cells: only(CUTOVER_ADMINS),
  },
  {
    reducer: 'revoke_cutover_admin',
    call: (r, slug) => r.revokeCutoverAdmin({ identity: dummy(slug) }),
    cells: only(CUTOVER_ADMINS),
  },
  {
    reducer: 'run_maintenance',
    call: (r) =>
      r.runMaintenance({
        arg: { scheduledId: 0n, scheduledAt: { tag: 'Interval', value: new TimeDuration(1n) } },
      }),
    // Scheduled: the host refuses every client before it runs (and the module would refuse anyone
    // but the database's own identity).
    cells: every(/^no such reducer$/),
  },
  // Last: it moves every stream to a new epoch.
  { reducer: 'note_history_cut', call: (r) => r.noteHistoryCut({}), cells: only(WRITERS) },
];

const slugOf = (who: string) => who.replace(/\W+/g, '-');

describe('reducer authorization matrix', () => {
  it('lists every reducer a client can call', () => {
    const callable = Object.keys(world.as.owner.conn.reducers).filter(
      (k) => typeof (world.as.owner.conn.reducers as never)[k] === 'function',
    );
    const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    expect(ROWS.map((r) => r.reducer).sort()).toEqual(callable.map(snake).sort());
  });

  const cells = ROWS.flatMap((row) => MODULE_IDENTITIES.map((who) => [row.reducer, who, row] as const));
  it.each(cells)('%s as %s', async (_reducer, who, row) => {
    const cell = row.cells[who];
    const outcome = await rejection(row.call(world.as[who].conn.reducers, slugOf(who)));
    if (cell === 'ok') expect(outcome).toBeUndefined();
    else if (cell === 'denied') expect(outcome).toMatch(/^unauthorized: /);
    else expect(outcome).toMatch(cell);
  });

  it.each(['expired', 'forged'] as const)('a %s token cannot connect, so it calls nothing', async (kind) => {
    const { token, why } = (await world.refusedTokens())[kind];
    expect(await rejection(connect(world.devhost, token))).toMatch(/Failed to verify token/);
    const res = await fetch(`${world.devhost.url}/v1/identity/websocket-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect([res.status, await res.text()]).toEqual([401, expect.stringMatching(why)]);
  });

  it('a writer cannot make a cutover admin by handing out the owner label, nor revoke the owner', async () => {
    const w = world.as.writer.conn.reducers;
    const fresh = await connect(world.devhost);
    try {
      expect(
        await rejection(w.grantWriter({ identity: Identity.fromString(fresh.identityHex), label: 'owner' })),
      ).toMatch(/^invalid: the label 'owner' is the module owner's/);
      expect(
        await rejection(
          fresh.conn.reducers.grantCutoverAdmin({
            identity: Identity.fromString(fresh.identityHex),
            label: 'x',
          }),
        ),
      ).toMatch(/^unauthorized: /);
      expect(
        await rejection(w.revokeWriter({ identity: Identity.fromString(world.as.owner.identityHex) })),
      ).toMatch(/^unauthorized: the module owner cannot be revoked/);
      // The owner still is one: it may still grant cutover admins.
      expect(
        await rejection(
          world.as.owner.conn.reducers.grantCutoverAdmin({ identity: dummy('still-owner'), label: 'x' }),
        ),
      ).toBeUndefined();
    } finally {
      fresh.conn.disconnect();
    }
  });
});
