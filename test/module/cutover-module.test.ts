/**
 * The cutover tables as SpacetimeDB holds them: only a cutover admin (the owner, or an identity an
 * admin granted) moves the stage, every move leaves an audit row, the transition table and the
 * revision are enforced in the module too, and the rollback delegate an admin named may only roll
 * back — once, marked automatic. The real module bundle on devhost, through the SDK.
 */
import type { Devhost } from '@spacetime-sync/devhost';
import { Identity } from 'spacetimedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbConnection } from '../../module/bindings/index.js';
import {
  type Connected,
  connect,
  rejection,
  startSyncDevhost,
  subscribe,
} from '../support/devhost-harness.js';

let devhost: Devhost;
let owner: Connected;
let service: Connected; // a writer, like the adapter when it is not the owner
let operator: Connected; // an operator's own identity
let stranger: Connected;

beforeAll(async () => {
  devhost = await startSyncDevhost();
  owner = await connect(devhost, devhost.ownerToken);
  [service, operator, stranger] = await Promise.all([connect(devhost), connect(devhost), connect(devhost)]);
  await subscribe(owner.conn, ['SELECT * FROM cutover_state', 'SELECT * FROM cutover_audit']);
  await owner.conn.reducers.grantWriter({
    identity: Identity.fromString(service.identityHex),
    label: 'adapter',
  });
}, 60_000);

afterAll(async () => {
  for (const c of [owner, service, operator, stranger]) c?.conn.disconnect();
  await devhost?.stop();
});

const state = (c: DbConnection) => c.db.cutoverState.id.find(0);
const audit = (c: DbConnection) =>
  [...c.db.cutoverAudit.iter()].sort((a, b) => Number(a.auditId - b.auditId));

function move(
  c: Connected,
  m: 'advance' | 'rollback',
  toStage: string,
  toPercent = 0,
  extra: { expectedRevision?: bigint; rollbackDelegate?: Identity } = {},
) {
  return c.conn.reducers.moveCutover({
    move: m,
    toStage,
    toPercent,
    expectedRevision: extra.expectedRevision,
    reason: `test ${m} to ${toStage}`,
    actor: 'alice',
    gateReadings: '[{"gate":"parity_mismatches","reading":0}]',
    rollbackDelegate: extra.rollbackDelegate,
  });
}

describe('cutover state in the module', () => {
  it('refuses a writer that is no cutover admin, and anyone else', async () => {
    for (const c of [service, stranger]) {
      expect(await rejection(move(c, 'advance', 'shadow'))).toMatch(
        /^unauthorized: .* is not a cutover admin/,
      );
    }
    expect(state(owner.conn)).toBeNull();
  });

  it('the owner advances; the move is stored with its audit row', async () => {
    await move(owner, 'advance', 'shadow', 0, { expectedRevision: 0n });
    expect(state(owner.conn)).toMatchObject({
      stage: 'shadow',
      canaryPercent: 0,
      revision: 1n,
      actor: 'alice',
    });
    expect(audit(owner.conn).at(-1)).toMatchObject({
      revision: 1n,
      move: 'advance',
      automatic: false,
      fromStage: 'legacy_only',
      toStage: 'shadow',
      actor: 'alice',
      reason: 'test advance to shadow',
      gateReadings: '[{"gate":"parity_mismatches","reading":0}]',
    });
    expect(audit(owner.conn).at(-1)?.sender.toHexString()).toBe(owner.identityHex);
  });

  it('enforces the transition table and the revision, writing nothing when it refuses', async () => {
    expect(await rejection(move(owner, 'advance', 'spacetime_primary'))).toMatch(
      /^invalid: shadow advances to canary only, not spacetime_primary/,
    );
    expect(await rejection(move(owner, 'advance', 'canary', 100))).toMatch(
      /^invalid: 'canary' with percent 100/,
    );
    expect(await rejection(move(owner, 'advance', 'canary', 10, { expectedRevision: 0n }))).toMatch(
      /^revision_mismatch: the cutover moved since revision 0/,
    );
    expect(state(owner.conn)?.revision).toBe(1n);
    expect(audit(owner.conn)).toHaveLength(1);
  });

  it('an identity an admin granted may move it until revoked', async () => {
    const op = Identity.fromString(operator.identityHex);
    await owner.conn.reducers.grantCutoverAdmin({ identity: op, label: 'alice' });
    await move(operator, 'advance', 'canary', 10);
    expect(state(owner.conn)).toMatchObject({ stage: 'canary', canaryPercent: 10, revision: 2n });
    await owner.conn.reducers.revokeCutoverAdmin({ identity: op });
    expect(await rejection(move(operator, 'rollback', 'shadow'))).toMatch(/^unauthorized/);
    expect(await rejection(stranger.conn.reducers.grantCutoverAdmin({ identity: op, label: 'x' }))).toMatch(
      /^unauthorized/,
    );
  });

  it('the rollback delegate may roll back once, automatically, and do nothing else', async () => {
    const svc = Identity.fromString(service.identityHex);
    await move(owner, 'advance', 'canary', 50, { rollbackDelegate: svc });
    const auto = (c: Connected, toStage: string, expectedRevision: bigint) =>
      c.conn.reducers.autoRollbackCutover({
        toStage,
        toPercent: 0,
        expectedRevision,
        reason: 'parity_mismatches 3 > 0',
        gateReadings: '[]',
      });
    expect(await rejection(auto(stranger, 'shadow', 3n))).toMatch(/^unauthorized: .* was not delegated/);
    expect(await rejection(auto(service, 'spacetime_primary', 3n))).toMatch(
      /^invalid: rollback goes to an earlier/,
    );
    expect(await rejection(move(service, 'advance', 'spacetime_primary'))).toMatch(/^unauthorized/);
    await auto(service, 'shadow', 3n);
    expect(state(owner.conn)).toMatchObject({ stage: 'shadow', revision: 4n, actor: 'automatic rollback' });
    expect(state(owner.conn)?.rollbackDelegate).toBeUndefined();
    expect(audit(owner.conn).at(-1)).toMatchObject({
      move: 'rollback',
      automatic: true,
      fromStage: 'canary',
      fromPercent: 50,
      toStage: 'shadow',
      reason: 'parity_mismatches 3 > 0',
    });
    // The delegation ended with the stage: a second automatic rollback is refused.
    expect(await rejection(auto(service, 'legacy_only', 4n))).toMatch(/^unauthorized/);
  });
});
