/**
 * The service on the embedded devhost with three shards (`SPACETIMEDB_SHARD_COUNT=3`): one
 * database per shard in one devhost, one writer per shard. A Connect publish lands each stream on
 * the shard the one routing function names, and only there; heads, metrics and /readyz are per shard.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { ConnectError, createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import { sendInOrder } from '../../cli/publish/in-order-resend.js';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import { LaneClient, type LaneEvent } from '../../client/lanes/lane-client.js';
import { endpointFor, type ShardEndpoint, ShardedSyncClient } from '../../client/sharded-client.js';
import { AdminService } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { ErrorInfoSchema, ErrorReason } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { IngestService, PublishOutcome } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { embeddedDatabase } from '../../shared/shards/config.js';
import { shardFor, shardMap } from '../../shared/shards/route.js';
import { authedTransport } from '../support/auth.js';
import { cliEnv } from '../support/cli.js';
import { embeddedStoredEvents } from '../support/devhost-harness.js';
import { syncEnvelope as envelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';

let service: RunningService;
const map = shardMap(['shard-0', 'shard-1', 'shard-2']);

beforeAll(async () => {
  service = await startTestService({ spacetime: { kind: 'embedded', port: 0, shardCount: 3 } });
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

/** The streams each embedded shard database holds, with their keys in seq order. */
async function holdings(): Promise<Map<string, Map<string, string[]>>> {
  const out = new Map<string, Map<string, string[]>>();
  for (const [i, shard] of ['shard-0', 'shard-1', 'shard-2'].entries()) {
    const streams = new Map<string, string[]>();
    for (const [id, events] of await embeddedStoredEvents(
      service.devhost,
      embeddedDatabase('spacetime-sync', i),
    ))
      streams.set(
        id,
        events.map((e) => e.key),
      );
    out.set(shard, streams);
  }
  return out;
}

describe('three embedded shards', () => {
  it('lands each stream on its routed shard only, one request spanning shards included', async () => {
    const ingest = createClient(IngestService, authedTransport(service.httpUrl));
    const streams = Array.from({ length: 12 }, (_, i) => `orders:${i}`);
    // The spread is the routing function's: these 12 streams use all three shards.
    expect(new Set(streams.map((s) => shardFor(map, s))).size).toBe(3);
    const res = await ingest.publish({
      envelopes: streams.flatMap((s) => [envelope(s, `${s}/a`, 'a', 1n), envelope(s, `${s}/b`, 'b', 2n)]),
    });
    // Receipts come back in request order with each stream's own seqs.
    expect(res.results.map((r) => [r.streamId, r.seq, r.outcome])).toEqual(
      streams.flatMap((s) => [
        [s, 1n, PublishOutcome.APPENDED],
        [s, 2n, PublishOutcome.APPENDED],
      ]),
    );
    const held = await holdings();
    for (const s of streams) {
      for (const [shard, onShard] of held) {
        if (shard === shardFor(map, s)) expect(onShard.get(s)).toEqual([`${s}/a`, `${s}/b`]);
        else expect(onShard.has(s)).toBe(false);
      }
    }
    const again = await ingest.publish({ envelopes: [envelope('orders:3', 'orders:3/b', 'b', 2n)] });
    expect(again.results.map((r) => [r.seq, r.outcome])).toEqual([[2n, PublishOutcome.DUPLICATE]]);
  });

  it('answers stream heads from the stream’s shard and labels metrics by configured shard', async () => {
    const admin = createClient(AdminService, authedTransport(service.httpUrl));
    const ids = ['orders:0', 'orders:1', 'orders:2'];
    for (const id of ids) {
      expect((await admin.getStreamHead({ streamId: id })).headSeq).toBe(2n);
    }
    const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
    for (const shard of ['shard-0', 'shard-1', 'shard-2']) {
      expect(metrics).toContain(`spacetime_sync_shard_connected{shard="${shard}"} 1`);
    }
    const appended = [
      ...metrics.matchAll(
        /^spacetime_sync_shard_events_appended_total\{shard="([^"]+)",outcome="appended"\} (\d+)/gm,
      ),
    ];
    expect(appended.reduce((n, m) => n + Number(m[2]), 0)).toBe(24);
    expect(new Set(appended.map((m) => m[1]))).toEqual(new Set(['shard-0', 'shard-1', 'shard-2']));
    expect(await (await fetch(`${service.httpUrl}/readyz`)).text()).toBe('ready\n');
  });

  /** The three shard databases as a reader sees them, with the owner's token (it reads every stream). */
  const endpoints = (): ShardEndpoint[] =>
    ['shard-0', 'shard-1', 'shard-2'].map((name, i) => ({
      name,
      uri: service.spacetimeUrl,
      database: embeddedDatabase('spacetime-sync', i),
      token: service.devhost?.ownerToken as string,
    }));

  it('a ShardedSyncClient reads each stream from its routed shard, replay then live', async () => {
    const streams = ['shard-0', 'shard-1', 'shard-2'].flatMap((x) => streamsOn(endpoints(), x).slice(0, 2));
    expect(new Set(streams.map((x) => endpointFor(endpoints(), x).name)).size).toBe(3);
    const got = new Map<string, string[]>();
    const client = await ShardedSyncClient.open(streams, {
      shards: endpoints(),
      clientId: `sharded-${randomUUID()}`,
      store: new MemoryCursorStore(),
      onEvent: (_s, e) => {
        got.set(e.streamId, [...(got.get(e.streamId) ?? []), e.idempotencyKey]);
      },
    });
    try {
      expect(client.clients.size).toBe(3);
      const ingest = createClient(IngestService, authedTransport(service.httpUrl));
      await ingest.publish({ envelopes: streams.map((x) => envelope(x, `${x}/c`, 'c', 3n)) });
      await expect
        .poll(() => streams.map((x) => got.get(x)), { timeout: 30_000 })
        .toEqual(streams.map((x) => [`${x}/a`, `${x}/b`, `${x}/c`]));
    } finally {
      await client.close();
    }
  });

  it('the cutover LaneClient on the SpacetimeDB lane follows each stream on its routed shard', async () => {
    // Streams of their own with JSON payloads (the lane client hands payloads over as JSON), one per shard.
    const lanesOn = (shard: string) =>
      Array.from({ length: 40 }, (_, i) => `lane:${i}`).find(
        (x) => endpointFor(endpoints(), x).name === shard,
      ) as string;
    const streams = ['shard-0', 'shard-1', 'shard-2'].map(lanesOn);
    await createClient(IngestService, authedTransport(service.httpUrl)).publish({
      envelopes: streams.flatMap((x) => [1n, 2n].map((n) => envelope(x, `${x}/${n}`, `{"n":${n}}`, n))),
    });
    const got: LaneEvent[] = [];
    const lane = await LaneClient.open({
      route: async () => 'spacetime',
      routeIntervalMs: 60_000,
      spacetime: { uri: '', database: '', clientId: `lane-${randomUUID()}`, shards: endpoints() },
      // Never asked: the route answers the SpacetimeDB lane throughout.
      legacy: { url: 'ws://127.0.0.1:1/socket/websocket', token: async () => 'unused' },
      streams,
      topics: [],
      onEvent: (e) => {
        got.push(e);
      },
    });
    try {
      // Both authority seqs of each stream, each from its own shard.
      await expect
        .poll(() => streams.map((x) => got.filter((e) => e.streamId === x).map((e) => e.authoritySeq)), {
          timeout: 30_000,
        })
        .toEqual(streams.map(() => [1n, 2n]));
      expect(got.map((e) => e.payload)).toContainEqual({ n: 2 });
    } finally {
      await lane.close();
    }
  });

  it('`tail` with SPACETIMEDB_SHARDS reads the stream from its shard', async () => {
    const shards = endpoints();
    const stream = streamsOn(shards, 'shard-2')[0] as string;
    const head = (await holdings()).get('shard-2')?.get(stream)?.length ?? 0;
    expect(head).toBeGreaterThanOrEqual(2);
    const child = spawn(
      process.execPath,
      [new URL('../../bin/spacetime-sync.js', import.meta.url).pathname, 'tail', stream],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: cliEnv({
          SPACETIMEDB_SHARDS: shards.map((x) => `${x.name}=${x.uri}/${x.database}`).join(','),
          SPACETIMEDB_TOKEN: service.devhost?.ownerToken as string,
        }),
      },
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      await expect.poll(() => out.trim().split('\n').filter(Boolean).length, { timeout: 30_000 }).toBe(head);
      expect(
        out
          .trim()
          .split('\n')
          .map((l) => l.split('\t').slice(0, 2).join(' ')),
      ).toEqual(Array.from({ length: head }, (_, i) => `${stream} ${i + 1}`));
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
  it('applies a pipelining publisher’s calls to streams on different shards in its order (each shard’s module sees every seq)', async () => {
    const ingest = createClient(IngestService, authedTransport(service.httpUrl));
    const streams = Array.from({ length: 12 }, (_, i) => `pipe:${i}`);
    const first = streams.find((s) => shardFor(map, s) === 'shard-0') as string;
    const second = streams.find((s) => shardFor(map, s) === 'shard-1') as string;
    const publisherId = randomUUID();
    // As a pipelining publisher does (the CLI's --in-flight): a call the service held longer than its
    // hold and refused as out of order is sent again once its predecessor answered — on a loaded
    // machine seq 1's probe and seq 2's call can outlast the 2 s hold of the calls behind them.
    const outOfOrder = (e: unknown) =>
      ConnectError.from(e).findDetails(ErrorInfoSchema)[0]?.reason === ErrorReason.OUT_OF_ORDER_SEQUENCE;
    let previous: Promise<unknown> | undefined;
    const call = (seq: bigint, stream: string, key: string) => {
      const send = () =>
        ingest.publish({ publisherId, publisherSeq: seq, envelopes: [envelope(stream, key, key, seq)] });
      const sent = sendInOrder(send, previous, outOfOrder);
      previous = sent;
      return sent;
    };
    // Seq 2 goes to another shard only: shard-0's module must still know it before seq 3 (else seq 3
    // is refused there for good, resent or not).
    const answers = await Promise.all([call(1n, first, 'p1'), call(2n, second, 'p2'), call(3n, first, 'p3')]);
    expect(answers.map((a) => a.results.map((r) => [r.streamId, r.outcome]))).toEqual([
      [[first, PublishOutcome.APPENDED]],
      [[second, PublishOutcome.APPENDED]],
      [[first, PublishOutcome.APPENDED]],
    ]);
    expect((await holdings()).get('shard-0')?.get(first)).toEqual(['p1', 'p3']);
  });
});

/** Streams `orders:0` … `orders:11` the routing function puts on `shard`. */
function streamsOn(shards: readonly ShardEndpoint[], shard: string): string[] {
  return Array.from({ length: 12 }, (_, i) => `orders:${i}`).filter(
    (x) => endpointFor(shards, x).name === shard,
  );
}
