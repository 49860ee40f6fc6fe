/**
 * A mirror failure never blocks sync: the service with its bridge worker against devhost and real
 * Nostr relays (scripts/nostr-relay.sh). With the relay stopped, appends commit and a subscriber gets
 * every event while the outbox grows; when the relay returns the outbox drains into it. A relay that
 * refuses events leaves failed rows with its reason after max_attempts, and nothing more is sent.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import type { Devhost } from '@spacetime-sync/devhost';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import { BridgeEventSchema, BridgeStatus } from '../../proto/gen/spacetime_sync/v1/bridge_pb.js';
import { bridgeFiles, type KeyFiles, metricValue, startBridgeService } from '../support/bridge-harness.js';
import { type Connected, connect, startSyncDevhost, subscribe } from '../support/devhost-harness.js';
import { startRelay, storedEvents, type TestRelay } from '../support/nostr-relay.js';
import { eventInput } from '../support/sync-events.js';

let devhost: Devhost;
let owner: Connected;
let files: KeyFiles;
const relays: TestRelay[] = [];
const services: RunningService[] = [];

beforeAll(async () => {
  devhost = await startSyncDevhost();
  owner = await connect(devhost, devhost.ownerToken);
  await subscribe(owner.conn, [
    'SELECT * FROM bridge_outbox',
    'SELECT * FROM bridge_delivery',
    'SELECT * FROM sync_event',
  ]);
  files = await bridgeFiles(devhost);
}, 60_000);

afterAll(async () => {
  for (const s of services) await s.stop();
  for (const r of relays) await r.dispose();
  owner?.conn.disconnect();
  await devhost?.stop();
  if (files) await rm(files.dir, { recursive: true, force: true });
});

const enqueue = (key: string, maxAttempts = 3, kind = 1) =>
  owner.conn.reducers.enqueueBridgeEvent({
    bridgeKey: key,
    streamId: 'orders:mirror',
    seq: 0n,
    target: 'nostr',
    kind,
    payload: new TextEncoder().encode(`{"key":"${key}"}`),
    maxAttempts: maxAttempts,
  });

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;

/** `npx spacetime-sync …` as an operator runs it (async: the devhost answering it lives in this process). */
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(KAFKA_|SPACETIMEDB_|INGEST_|DEVHOST_|LOG_LEVEL|BRIDGE_)/.test(k),
    ),
  );
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...clean, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const asOwner = () => ({
  SPACETIMEDB_URI: devhost.url,
  SPACETIMEDB_DB: 'sync',
  SPACETIMEDB_TOKEN: devhost.ownerToken,
});

const outbox = (prefix: string) =>
  [...owner.conn.db.bridgeOutbox.iter()].filter((r) => r.bridgeKey.startsWith(prefix));
const statusCount = (prefix: string, status: string) =>
  outbox(prefix).filter((r) => r.status === status).length;
const storedKeys = async (url: string, pubkey: string, prefix: string) =>
  (await storedEvents(url, { authors: [pubkey] }))
    .map((e) => e.tags.find((t) => t[0] === 'd')?.[1] ?? '')
    .filter((k) => k.startsWith(prefix));

describe('bridge worker and a failing mirror', () => {
  it('keeps appends and client delivery going while the relay is down, and drains the outbox when it returns', async () => {
    const relay = await startRelay();
    relays.push(relay);
    const service = await startBridgeService(devhost, files, `main=${relay.url}`);
    services.push(service);
    await enqueue('down-0');
    await expect.poll(() => statusCount('down-', 'sent'), { timeout: 15_000 }).toBe(1);

    await relay.stop();
    const client = await connect(devhost, devhost.ownerToken);
    const seen = new Set<string>();
    client.conn.db.syncEvent.onInsert((_c, e) => {
      if (e.streamId === 'orders:down') seen.add(e.idempotencyKey);
    });
    await subscribe(client.conn, ["SELECT * FROM sync_event WHERE stream_id = 'orders:down'"]);
    const N = 200;
    for (let batch = 0; batch < N / 50; batch++) {
      const keys = Array.from({ length: 50 }, (_, i) => `e${batch * 50 + i}`);
      const receipts = await service.writer.appendBatch(keys.map((k) => eventInput('orders:down', k)));
      expect(receipts.every((r) => r.status === 'appended')).toBe(true);
      for (const k of keys) await enqueue(`down-${k}`);
    }
    await expect.poll(() => seen.size, { timeout: 15_000 }).toBe(N);
    expect(statusCount('down-', 'pending')).toBe(N);
    expect(await metricValue(service.httpUrl, 'spacetime_sync_bridge_outbox_pending')).toBe(N);
    expect(await metricValue(service.httpUrl, 'spacetime_sync_bridge_relay_up', 'relay="main"')).toBe(0);
    client.conn.disconnect();

    await relay.start();
    await expect.poll(() => statusCount('down-', 'sent'), { timeout: 60_000, interval: 200 }).toBe(N + 1);
    const keys = await storedKeys(relay.url, files.publicKey, 'down-e');
    expect(keys).toHaveLength(N);
    expect(new Set(keys).size).toBe(N);
    expect(await metricValue(service.httpUrl, 'spacetime_sync_bridge_outbox_pending')).toBe(0);
    await service.stop(); // one worker per target: the next test runs its own
  }, 120_000);

  it('fails a refused event with the relay reason after max_attempts, delivers it to the other relay, and sends no more', async () => {
    const good = await startRelay();
    // This relay takes only events by its owner — another key — and says so in its OK.
    const refusing = await startRelay({ owner: 'f'.repeat(64).replace(/^f/, '7') });
    relays.push(good, refusing);
    const service = await startBridgeService(devhost, files, `good=${good.url},refusing=${refusing.url}`);
    services.push(service);
    const refused = () =>
      metricValue(service.httpUrl, 'spacetime_sync_bridge_refused_total', 'relay="refusing"');

    for (const k of ['a', 'b', 'c']) await enqueue(`ref-${k}`, 3, k === 'b' ? 30_023 : 1);
    await expect.poll(() => statusCount('ref-', 'failed'), { timeout: 60_000, interval: 200 }).toBe(3);
    for (const row of outbox('ref-')) {
      expect(row.attempts).toBe(3);
      expect(row.lastError).toBe('refusing: blocked: event not related to owner of this relay');
      const deliveries = [...owner.conn.db.bridgeDelivery.iter()].filter((d) => d.outboxId === row.outboxId);
      expect(deliveries.map((d) => [d.relay, d.status, d.attempts]).sort()).toEqual([
        ['good', 'sent', 0],
        ['refusing', 'failed', 3],
      ]);
    }
    expect((await storedKeys(good.url, files.publicKey, 'ref-')).sort()).toEqual(['ref-a', 'ref-b', 'ref-c']);
    expect(await refused()).toBe(9);

    // A later row goes through the same bounded attempts, and the failed ones get no more publishes.
    await enqueue('ref-d', 2);
    await expect.poll(() => statusCount('ref-', 'failed'), { timeout: 30_000, interval: 200 }).toBe(4);
    expect(await refused()).toBe(11);
    // Accepted events are no refusals: the good relay's refused counter stays at zero.
    expect(await metricValue(service.httpUrl, 'spacetime_sync_bridge_refused_total', 'relay="good"')).toBe(0);
    expect(await metricValue(service.httpUrl, 'spacetime_sync_bridge_published_total', 'relay="good"')).toBe(
      4,
    );

    // The operator sees them with the relay's reason, and a retry gives them a fresh set of attempts.
    const listed = await cli(['bridge', 'failed', '--json'], asOwner());
    expect(listed.code).toBe(1);
    // The listing is the contract's BridgeEvent in canonical protobuf JSON: it parses strictly.
    const failed = (JSON.parse(listed.stdout) as JsonValue[]).map((j) => fromJson(BridgeEventSchema, j));
    expect(failed.map((f) => f.bridgeKey)).toEqual(['ref-a', 'ref-b', 'ref-c', 'ref-d']);
    expect(failed.every((f) => f.status === BridgeStatus.FAILED && f.destination === 'nostr')).toBe(true);
    const refusedAt = failed[0]?.deliveries.find((d) => d.relay === 'refusing');
    expect(refusedAt).toMatchObject({
      status: BridgeStatus.FAILED,
      lastError: 'blocked: event not related to owner of this relay',
    });
    expect(refusedAt?.eventId).toMatch(/^[0-9a-f]{64}$/);
    expect(failed[0]?.deliveries.find((d) => d.relay === 'good')?.status).toBe(BridgeStatus.SENT);
    const retried = await cli(['bridge', 'retry', 'ref-a'], asOwner());
    expect(retried).toMatchObject({ code: 0, stdout: 'retried ref-a\n' });
    await expect.poll(refused, { timeout: 30_000, interval: 200 }).toBe(14);
    await expect.poll(() => statusCount('ref-', 'failed'), { timeout: 30_000, interval: 200 }).toBe(4);
    expect((await cli(['bridge', 'retry', 'no-such-key'], asOwner())).code).toBe(1);
  }, 120_000);

  it('bridge command: --help, usage errors and an unreachable SpacetimeDB have their exit codes', async () => {
    const help = await cli(['bridge', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/failed[\s\S]*retry/);
    expect((await cli(['bridge', 'frobnicate'])).code).toBe(2);
    expect((await cli(['bridge', 'retry'], asOwner())).code).toBe(2);
    const down = await cli(['bridge', 'failed'], { ...asOwner(), SPACETIMEDB_URI: 'ws://127.0.0.1:9' });
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('cannot connect to');
  }, 60_000);
});
