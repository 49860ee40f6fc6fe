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
import type { BenchCase } from './harness.js';

const { Kafka, logLevel } = kafkajs;
const SCRIPT = new URL('../scripts/kafka.sh', import.meta.url).pathname;
const RAW_BATCH = 20_000;
const E2E_BATCH = 2_000;
export const RAW_KAFKA = 'kafka: raw kafkajs consume of the same envelopes (baseline)';
export const RAW_REDUCER = 'devhost: append_sync_events via SDK (100 events/call)';

let brokers: string[] = [];
let brokerDir: string | undefined;
let users = 0;
async function acquireBroker(): Promise<void> {
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
async function releaseBroker(): Promise<void> {
  if (--users > 0 || !brokerDir) return;
  execFileSync('bash', [SCRIPT, 'stop', '--data', brokerDir]);
  rmSync(brokerDir, { recursive: true, force: true });
  brokers = [];
  brokerDir = undefined;
}

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

export default function suite(): BenchCase[] {
  let rawTopic = '';
  let group = 0;
  let service: RunningService | undefined;
  let e2eTopic = '';
  const latencies: number[] = [];
  const count = () => service?.devhost?.databases.get(service.database)?.rows('sync_event').length ?? 0;

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
    {
      name: 'adapter: Kafka → SpacetimeDB end to end (committed, durable)',
      opsPerRun: E2E_BATCH,
      compareTo: [RAW_KAFKA, RAW_REDUCER],
      setup: async () => {
        await acquireBroker();
        e2eTopic = `bench-e2e-${Date.now()}`;
        const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic: e2eTopic, numPartitions: 3 }], waitForLeaders: true });
        await admin.disconnect();
        service = await startService(
          {
            spacetime: { kind: 'embedded', port: 0 },
            ingest: { host: '127.0.0.1', port: 0 },
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
      },
      teardown: async () => {
        await service?.stop();
        await releaseBroker();
      },
      run: async () => {
        const before = count();
        await produce(e2eTopic, envelopes(E2E_BATCH));
        while (count() < before + E2E_BATCH) await new Promise((r) => setTimeout(r, 5));
      },
      report: () => {
        // Per event: produced_at (set when the envelope was built) → committed_at (the reducer's timestamp).
        const db = service?.devhost?.databases.get(service.database);
        const table = db?.schema.tableByName('sync_event');
        if (!db || !table) return [];
        const decode = AlgebraicType.makeDeserializer(table.rowType, db.schema.typespace as never);
        for (const bytes of db.rows('sync_event')) {
          const e = decode(new BinaryReader(bytes)) as {
            produced_at: { microsSinceUnixEpoch: bigint };
            committed_at: { microsSinceUnixEpoch: bigint };
          };
          latencies.push(
            Number(e.committed_at.microsSinceUnixEpoch - e.produced_at.microsSinceUnixEpoch) / 1000,
          );
        }
        latencies.sort((a, b) => a - b);
        const p = (q: number) =>
          latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(1);
        return [
          `per-event produced→committed latency over ${latencies.length} events: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms (includes producing the batch)`,
        ];
      },
    },
  ];
}
