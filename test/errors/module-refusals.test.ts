/**
 * The error contract at the module boundary: every refusal of the sync module and its reducers (and
 * a reducer call that SpacetimeDB itself fails), caused for real on devhost, answered through the
 * one Connect mapping over the Connect wire format, and given its Kafka disposition.
 */

import type { Devhost } from '@spacetime-sync/devhost';
import { afterAll, beforeAll, describe } from 'vitest';
import { SpacetimeWriter } from '../../adapter/spacetime/writer.js';
import { createLogger } from '../../adapter/telemetry/logger.js';
import { connect, SYNC_DB, startSyncDevhost } from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';
import { answersEveryRow } from './testing/error-table.js';
import { type ModuleWorld, moduleRefusalRows } from './testing/module-refusal-rows.js';

let devhost: Devhost;
let world: ModuleWorld;

beforeAll(async () => {
  devhost = await startSyncDevhost();
  const writer = await SpacetimeWriter.connect({
    uri: devhost.url,
    database: SYNC_DB,
    token: devhost.ownerToken,
    logger: createLogger({ level: 'silent' }),
  });
  world = { writer, owner: await connect(devhost, devhost.ownerToken), stranger: await connect(devhost) };
  await writer.appendBatch([eventInput('t:1', 'first', { body: 'original', sourceSeq: 10n })]);
  await world.owner.conn.reducers.openComputeAssignment({ requestId: 'r1', providerId: 'p', detail: 'd' });
}, 60_000);

afterAll(async () => {
  world?.owner.conn.disconnect();
  world?.stranger.conn.disconnect();
  await world?.writer.close();
  await devhost?.stop();
});

describe('the error contract at the module boundary, refusal by refusal', () => {
  answersEveryRow(moduleRefusalRows(() => world));
});
