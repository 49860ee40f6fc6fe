/**
 * Start step 4's last part, SpacetimeDB told to trust the service's client tokens, while SpacetimeDB
 * is away: the start waited for every shard before this step, but a host can crash between two steps
 * (the chaos long run's finding, e33cdaa). The step used to end the start there ("not connected to
 * SpacetimeDB", exit 1); now it waits for the writer like the other steps and asks again, and a
 * permanent refusal still ends it. A real writer reaches the module on devhost through a front door
 * that closes every connection until the test opens it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Devhost } from '@spacetime-sync/devhost';
import { AlgebraicType, BinaryReader } from 'spacetimedb';
import { afterEach, describe, expect, it } from 'vitest';
import { warmHttpParserOnce } from '../../shared/http-parser-warmup.js';
import { testAuthConfig } from '../../test/support/auth.js';
import { SYNC_DB, startSyncDevhost } from '../../test/support/devhost-harness.js';
import { type FrontDoor, startFrontDoor } from '../../test/support/front-door.js';
import { createAuthenticator } from '../auth/setup.js';
import { ServiceLifecycle } from '../service-lifecycle.js';
import { ShardSet } from '../shards/shard-set.js';
import { createLogger } from '../telemetry/logger.js';
import { startTokenIssuer } from '../tokens/start.js';
import { trustTokenIssuer } from './client-tokens.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const AUDIENCE = 'spacetime-sync-client';
const logger = createLogger({ level: 'silent' });

/** devhost behind a closed front door, a shard set whose writer reaches it through the door, the step's deps. */
async function stepBehindClosedDoor(issuerUrl?: string) {
  // As the service does before its first connection (a first connection closed by its peer would
  // hang unseen on Node 20: ../../shared/http-parser-warmup.ts).
  await warmHttpParserOnce();
  const devhost: Devhost = await startSyncDevhost();
  cleanups.push(() => devhost.stop());
  const front: FrontDoor = await startFrontDoor(Number(new URL(devhost.url).port), 'close');
  cleanups.push(() => front.close());
  const shards = ShardSet.open(
    [{ name: 'main', uri: `ws://127.0.0.1:${front.port}`, database: SYNC_DB, token: devhost.ownerToken }],
    { logger },
  );
  cleanups.push(() => shards.close());
  const dir = await mkdtemp(join(tmpdir(), 'client-tokens-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const issuer = startTokenIssuer(
    { keysFile: join(dir, 'keys.json'), audience: AUDIENCE, ...(issuerUrl ? { issuer: issuerUrl } : {}) },
    logger,
    async () => {},
  );
  const life = new ServiceLifecycle();
  cleanups.push(() => life.stop());
  const step = trustTokenIssuer({
    issuer,
    httpUrl: 'http://127.0.0.1:4000',
    authenticator: await createAuthenticator(testAuthConfig),
    devhost: undefined,
    shards,
    logger,
    life,
  });
  const outcome: { settled?: 'resolved' | unknown } = {};
  step.then(
    () => (outcome.settled = 'resolved'),
    (e: unknown) => (outcome.settled = e),
  );
  const trusted = () => issuersTrusted(devhost);
  return { front, step, outcome, trusted };
}

/** The module's token_issuer rows, read off the host. */
function issuersTrusted(devhost: Devhost): { issuer: string; audience: string }[] {
  const db = devhost.databases.get(SYNC_DB);
  const table = db?.schema.tableByName('token_issuer');
  if (!db || !table) throw new Error('no token_issuer table');
  const decode = AlgebraicType.makeDeserializer(table.rowType, db.schema.typespace as never);
  return [...db.scanTable(table.tableId)].map((bytes) => {
    const row = decode(new BinaryReader(bytes)) as { issuer: string; audience: string };
    return { issuer: row.issuer, audience: row.audience };
  });
}

describe('trusting the client-token issuer at start while SpacetimeDB is away', () => {
  it('waits for SpacetimeDB instead of ending the start, then has the module trust the issuer', async () => {
    const { front, step, outcome, trusted } = await stepBehindClosedDoor();
    // The writer tried and was closed on at least twice: SpacetimeDB was away all that time.
    await expect.poll(() => front.accepted, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    // The old code had ended the step (and the start) at once: "not connected to SpacetimeDB".
    expect(outcome.settled).toBeUndefined();
    front.open();
    await expect(step).resolves.toBeUndefined();
    expect(trusted()).toEqual([{ issuer: 'http://127.0.0.1:4000', audience: AUDIENCE }]);
  });

  it('still ends the start on a permanent refusal, once SpacetimeDB answers', async () => {
    // SpacetimeDB refuses an issuer name past 128 characters (`invalid`): asking again cannot help.
    const { front, step, trusted } = await stepBehindClosedDoor(`https://issuer.example/${'x'.repeat(120)}`);
    await expect.poll(() => front.accepted, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    front.open();
    await expect(step).rejects.toMatchObject({ reason: 'invalid' });
    expect(trusted()).toEqual([]);
  });
});
