/**
 * The bridge on a sharded service: the service on the embedded devhost with two shards (one database
 * each) and a real relay. Bridge events are enqueued on the shard of their stream, as a producer
 * does; one worker per shard drains its shard's outbox, so every shard's events reach the relay,
 * exactly once each by event id, and the metrics say which shard published what.
 */
import { rm } from 'node:fs/promises';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BridgeConfig, loadBridgeConfig } from '../../adapter/bridge/bridge-config.js';
import { type RunningService, startService } from '../../adapter/service.js';
import { createLogger } from '../../adapter/telemetry/logger.js';
import { BridgeEventSchema } from '../../proto/gen/spacetime_sync/v1/bridge_pb.js';
import { embeddedDatabase } from '../../shared/shards/config.js';
import { shardFor, shardMap } from '../../shared/shards/route.js';
import { testAuthConfig } from '../support/auth.js';
import { nostrKeyFile } from '../support/bridge-harness.js';
import { cliEnv, runCli } from '../support/cli.js';
import { type Connected, connect, subscribe } from '../support/devhost-harness.js';
import { countEvents, startRelay, storedEvents, type TestRelay } from '../support/nostr-relay.js';

const SHARDS = ['shard-0', 'shard-1'];
const PER_SHARD = 40;
const map = shardMap(SHARDS);

let service: RunningService;
let relay: TestRelay;
let key: Awaited<ReturnType<typeof nostrKeyFile>>;
const owners = new Map<string, Connected>();

beforeAll(async () => {
  relay = await startRelay();
  // The key file only: without BRIDGE_TOKEN_FILE each shard's worker runs as a fresh identity of
  // its own on the embedded devhost, granted its target by the service.
  key = await nostrKeyFile();
  service = await startService(
    {
      spacetime: { kind: 'embedded', port: 0, shardCount: SHARDS.length },
      ingest: { host: '127.0.0.1', port: 0 },
      auth: testAuthConfig,
      logLevel: 'silent',
      probeIntervalMs: 0,
      bridge: loadBridgeConfig({
        BRIDGE_NOSTR_RELAYS: `main=${relay.url}`,
        BRIDGE_NOSTR_KEY_FILE: key.keyFile,
      }) as BridgeConfig,
    },
    createLogger({ level: 'silent' }),
    { defaultMetrics: false },
  );
  const devhost = service.devhost;
  if (!devhost) throw new Error('no embedded devhost');
  for (const [i, shard] of SHARDS.entries()) {
    const owner = await connect(devhost, devhost.ownerToken, embeddedDatabase('spacetime-sync', i));
    await subscribe(owner.conn, ['SELECT * FROM bridge_outbox']);
    owners.set(shard, owner);
  }
}, 120_000);

afterAll(async () => {
  for (const o of owners.values()) o.conn.disconnect();
  await service?.stop();
  await relay?.dispose();
  if (key) await rm(key.dir, { recursive: true, force: true });
});

/** Stream ids that route to `shard`, by the one routing function. */
function streamsOn(shard: string, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++)
    if (shardFor(map, `orders:${i}`) === shard) out.push(`orders:${i}`);
  return out;
}

/** One metric line's value, whatever the order of its labels (0 when absent). */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const sent = (shard: string) =>
  [...(owners.get(shard)?.conn.db.bridgeOutbox.iter() ?? [])].filter((r) => r.status === 'sent').length;

describe('the bridge with two shards', () => {
  it("drains every shard's outbox to the relay, once per event id, with per-shard metrics", async () => {
    for (const shard of SHARDS) {
      const owner = owners.get(shard) as Connected;
      const enqueues = streamsOn(shard, PER_SHARD).map((stream, i) =>
        owner.conn.reducers.enqueueBridgeEvent({
          bridgeKey: `${stream}/order-placed`,
          streamId: stream,
          seq: BigInt(i + 1),
          target: 'nostr',
          kind: 1,
          payload: new TextEncoder().encode(`{"stream":"${stream}"}`),
          maxAttempts: 3,
        }),
      );
      // The same key on both shards, different streams: two events, two ids (a key is unique per
      // database; the event id hashes the stream too).
      enqueues.push(
        owner.conn.reducers.enqueueBridgeEvent({
          bridgeKey: 'same-key',
          streamId: streamsOn(shard, 1)[0] as string,
          seq: 99n,
          target: 'nostr',
          kind: 1,
          payload: new TextEncoder().encode('{"same":"key"}'),
          maxAttempts: 3,
        }),
      );
      await Promise.all(enqueues);
    }
    for (const shard of SHARDS) {
      await expect.poll(() => sent(shard), { timeout: 60_000, interval: 100 }).toBe(PER_SHARD + 1);
    }
    const events = await storedEvents(relay.url, { authors: [key.publicKey] });
    expect(events).toHaveLength(SHARDS.length * (PER_SHARD + 1));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(await countEvents(relay.url, { authors: [key.publicKey] })).toBe(events.length);
    const streamsAtRelay = new Set(events.map((e) => e.tags.find((t) => t[0] === 'stream')?.[1]));
    for (const shard of SHARDS)
      for (const s of streamsOn(shard, PER_SHARD)) expect(streamsAtRelay).toContain(s);
    for (const shard of SHARDS) {
      expect(await metric('spacetime_sync_bridge_published_total', { shard, relay: 'main' })).toBe(
        PER_SHARD + 1,
      );
      expect(await metric('spacetime_sync_bridge_relay_up', { shard, relay: 'main' })).toBe(1);
    }
    await expect
      .poll(async () => [
        await metric('spacetime_sync_bridge_outbox_pending', { shard: 'shard-0' }),
        await metric('spacetime_sync_bridge_outbox_pending', { shard: 'shard-1' }),
      ])
      .toEqual([0, 0]);
  });

  it('shows operators a failure on any shard, and retries it where it is', async () => {
    // Not UTF-8: every relay counts it refused (unpublishable); with one attempt it fails at once.
    const stream = streamsOn('shard-1', 1)[0] as string;
    await owners.get('shard-1')?.conn.reducers.enqueueBridgeEvent({
      bridgeKey: 'bad-on-shard-1',
      streamId: stream,
      seq: 7n,
      target: 'nostr',
      kind: 1,
      payload: new Uint8Array([0xff, 0xfe]),
      maxAttempts: 1,
    });
    const status = () =>
      [...(owners.get('shard-1')?.conn.db.bridgeOutbox.iter() ?? [])].find(
        (r) => r.bridgeKey === 'bad-on-shard-1',
      )?.status;
    await expect.poll(status, { timeout: 30_000, interval: 100 }).toBe('failed');
    const devhost = service.devhost as NonNullable<RunningService['devhost']>;
    const env = cliEnv({
      SPACETIMEDB_SHARDS: SHARDS.map(
        (s, i) => `${s}=${devhost.url}/${embeddedDatabase('spacetime-sync', i)}`,
      ).join(','),
      SPACETIMEDB_TOKEN: devhost.ownerToken,
    });
    const listed = await runCli(['bridge', 'failed', '--json'], { env });
    expect(listed.code).toBe(1);
    const failed = (JSON.parse(listed.out) as JsonValue[]).map((j) => fromJson(BridgeEventSchema, j));
    expect(failed.map((f) => [f.bridgeKey, f.streamId])).toEqual([['bad-on-shard-1', stream]]);
    expect(failed[0]?.deliveries[0]?.lastError).toMatch(/unpublishable: payload is not UTF-8/);
    const text = await runCli(['bridge', 'failed'], { env });
    expect(text.out).toMatch(/bad-on-shard-1 {2}shard=shard-1 target=nostr/);
    const retried = await runCli(['bridge', 'retry', 'bad-on-shard-1'], { env });
    expect([retried.code, retried.out.trim()]).toEqual([0, 'retried bad-on-shard-1']);
    const unknown = await runCli(['bridge', 'retry', 'no-such-key'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.out).toMatch(
      /refused no-such-key: shard-0: [^\n]*no bridge event[\s\S]*; shard-1: [^\n]*no bridge event/,
    );
  });
});
