/**
 * The adapter's end-to-end rate (produce → Kafka → adapter → committed in SpacetimeDB) next to its two
 * ceilings measured in the same run: raw kafkajs consumption of the same envelopes, and the raw batched
 * reducer rate (devhost.bench.ts). Uses KAFKA_BROKERS, or starts the project's broker.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import kafkajs from 'kafkajs';
import { AlgebraicType, BinaryReader } from 'spacetimedb';
import { type RunningService, startService } from '../adapter/service.js';
import { createLogger } from '../adapter/telemetry/logger.js';
import { SyncEnvelopeSchema } from '../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { hashPayload } from '../shared/payload-hash.js';
import { testAuthConfig } from '../test/support/auth.js';
import { DURABLE_APPEND as DURABLE_REDUCER, MEMORY_APPEND as RAW_REDUCER } from './devhost.bench.js';
import type { BenchCase } from './harness.js';

const { Kafka, logLevel } = kafkajs;
const SCRIPT = new URL('../scripts/kafka.sh', import.meta.url).pathname;
const RAW_BATCH = 20_000;
const E2E_BATCH = 2_000;
export const RAW_KAFKA = 'ceiling: raw kafkajs consume of the same envelopes (Kafka only)';
const E2E_MEMORY = 'adapter: Kafka → SpacetimeDB end to end, committed (memory only)';
const E2E_DURABLE =
  'adapter: Kafka → SpacetimeDB end to end, committed and durable (data dir, group fsync 5 ms)';

let brokers: string[] = [];
let brokerDir: string | undefined;
let users = 0;
/** The bench broker, shared by the suites that need one (shards.bench.ts too). */
export async function acquireBroker(): Promise<void> {
  users++;
  if (brokers.length > 0) return;
  if (process.env.KAFKA_BROKERS) {
    brokers = process.env.KAFKA_BROKERS.split(',');
    return;
  }
  brokerDir = mkdtempSync(join(tmpdir(), 'bench-kafka-'));
  const out = execFileSync('bash', [SCRIPT, 'start', '--data', brokerDir], { encoding: 'utf8' });
  brokers = [/KAFKA_BROKERS=(\S+)/.exec(out)?.[1] ?? ''];
}
export async function releaseBroker(): Promise<void> {
  if (--users > 0 || !brokerDir) return;
  execFileSync('bash', [SCRIPT, 'stop', '--data', brokerDir]);
  rmSync(brokerDir, { recursive: true, force: true });
  brokers = [];
  brokerDir = undefined;
}

export const brokerList = (): string[] => brokers;

let seq = 0;
function envelopes(n: number): { key: string; value: Buffer }[] {
  return Array.from({ length: n }, () => {
    seq++;
    const stream = `bench:${seq % 32}`;
    const payload = new TextEncoder().encode(`{"n":${seq},"v":"${'x'.repeat(200)}"}`);
    const e = create(SyncEnvelopeSchema, {
      streamId: stream,
      idempotencyKey: `k${seq}`,
      kind: 'bench.v1',
      payload,
      ...hashPayload(payload),
      source: { authorityTopic: 'bench', authoritySeq: BigInt(seq) },
      producedAt: timestampFromMs(Date.now()),
      protocolVersion: { major: 1, minor: 0 },
    });
    return { key: stream, value: Buffer.from(toBinary(SyncEnvelopeSchema, e)) };
  });
}

async function produce(topic: string, messages: { key: string; value: Buffer }[]): Promise<void> {
  const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  for (let i = 0; i < messages.length; i += 1000) {
    const stamped = messages.slice(i, i + 1000);
    await producer.send({ topic, messages: stamped });
  }
  await producer.disconnect();
}

/** The adapter on the embedded devhost: memory only, or with a data dir and the default group fsync. */
function e2eCase(durable: boolean): BenchCase {
  let service: RunningService | undefined;
  let e2eTopic = '';
  let dataDir: string | undefined;
  const latencies: number[] = [];
  let lastOffset = 0n;
  const count = () => service?.devhost?.databases.get(service.database)?.rows('sync_event').length ?? 0;
  const percentile = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const collect = () => {
    if (latencies.length > 0) return;
    // Per event: produced_at (set when the envelope was built) → committed_at (the reducer's timestamp).
    const db = service?.devhost?.databases.get(service.database);
    const table = db?.schema.tableByName('sync_event');
    if (!db || !table) return;
    const decode = AlgebraicType.makeDeserializer(table.rowType, db.schema.typespace as never);
    for (const bytes of db.rows('sync_event')) {
      const e = decode(new BinaryReader(bytes)) as {
        produced_at: { microsSinceUnixEpoch: bigint };
        committed_at: { microsSinceUnixEpoch: bigint };
      };
      latencies.push(Number(e.committed_at.microsSinceUnixEpoch - e.produced_at.microsSinceUnixEpoch) / 1000);
    }
    latencies.sort((a, b) => a - b);
  };
  return {
    name: durable ? E2E_DURABLE : E2E_MEMORY,
    opsPerRun: E2E_BATCH,
    ceiling: RAW_KAFKA,
    compareTo: durable ? [E2E_MEMORY, DURABLE_REDUCER] : [RAW_REDUCER],
    ...(durable
      ? { target: { text: '≥ 0.8× durable SDK append', minShareOf: { name: DURABLE_REDUCER, share: 0.8 } } }
      : {}),
    setup: async () => {
      await acquireBroker();
      e2eTopic = `bench-e2e-${Date.now()}`;
      dataDir = durable ? mkdtempSync(join(tmpdir(), 'bench-adapter-')) : undefined;
      const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: e2eTopic, numPartitions: 3 }], waitForLeaders: true });
      await admin.disconnect();
      service = await startService(
        {
          spacetime: { kind: 'embedded', port: 0, ...(dataDir ? { dataDir } : {}) },
          ingest: { host: '127.0.0.1', port: 0 },
          auth: testAuthConfig,
          kafka: {
            brokers,
            topics: [e2eTopic],
            groupId: `bench-adapter-${Date.now()}`,
            watchdogMs: 60_000,
            maxInFlight: 5_000,
            sessionTimeoutMs: 15_000,
            deadLetterTopic: `${e2eTopic}-dlq`,
          },
          logLevel: 'silent',
        },
        createLogger({ level: 'silent' }),
        { defaultMetrics: false },
      );
      service.devhost?.databases.get(service.database)?.onCommit((tx) => {
        lastOffset = tx.offset;
      });
    },
    teardown: async () => {
      await service?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      await releaseBroker();
    },
    run: async () => {
      const before = count();
      await produce(e2eTopic, envelopes(E2E_BATCH));
      // Committed: the rows are in the database; with a data dir the adapter only commits the Kafka
      // offset after the reducer's confirmed (fsynced) answer, so this waits for durability too.
      while (count() < before + E2E_BATCH) await new Promise((r) => setTimeout(r, 5));
      const db = service?.devhost?.databases.get(service.database);
      if (durable && db) await db.waitDurable(lastOffset);
    },
    metrics: () => {
      collect();
      return { producedToCommittedP50Ms: percentile(0.5), producedToCommittedP99Ms: percentile(0.99) };
    },
    report: () => {
      collect();
      return [
        `per-event produced→committed latency over ${latencies.length} events: p50 ${percentile(0.5).toFixed(1)} ms, p99 ${percentile(0.99).toFixed(1)} ms (includes producing the batch)`,
      ];
    },
  };
}

export default function suite(): BenchCase[] {
  let rawTopic = '';
  let group = 0;

  return [
    {
      name: RAW_KAFKA,
      opsPerRun: RAW_BATCH,
      setup: async () => {
        await acquireBroker();
        rawTopic = `bench-raw-${Date.now()}`;
        const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic: rawTopic, numPartitions: 3 }], waitForLeaders: true });
        await admin.disconnect();
        await produce(rawTopic, envelopes(RAW_BATCH));
      },
      teardown: releaseBroker,
      run: async () => {
        const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({
          groupId: `bench-raw-${group++}`,
        });
        await consumer.connect();
        await consumer.subscribe({ topic: rawTopic, fromBeginning: true });
        let seen = 0;
        await new Promise<void>((resolve) => {
          void consumer.run({
            eachBatch: async ({ batch }) => {
              seen += batch.messages.length;
              if (seen >= RAW_BATCH) resolve();
            },
          });
        });
        await consumer.disconnect();
      },
    },
    e2eCase(false),
    e2eCase(true),
  ];
}
