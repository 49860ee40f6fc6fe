/**
 * The adapter's end-to-end rate (produce → Kafka → adapter → committed in SpacetimeDB) next to its two
 * ceilings measured in the same run: raw kafkajs consumption of the same envelopes, and the raw batched
 * reducer rate (devhost.bench.ts). Uses KAFKA_BROKERS, or starts the project's broker.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import type { DevhostThreadMode } from '../adapter/embedded-devhost.js';
import { type RunningService, startService } from '../adapter/service.js';
import { createLogger } from '../adapter/telemetry/logger.js';
import { createMetricsRegistry, type Registry } from '../adapter/telemetry/metrics.js';
import { testAuthConfig } from '../test/support/auth.js';
import { DURABLE_APPEND as DURABLE_REDUCER, MEMORY_APPEND as RAW_REDUCER } from './devhost.bench.js';
import type { BenchCase } from './harness.js';
import { envelopeSource } from './kafka-envelopes.js';

const { Kafka, logLevel } = kafkajs;
const SCRIPT = new URL('../scripts/kafka.sh', import.meta.url).pathname;
const RAW_BATCH = 20_000;
const E2E_BATCH = 2_000;
export const RAW_KAFKA = 'ceiling: raw kafkajs consume of the same envelopes (Kafka only)';
const E2E_MEMORY = 'adapter: Kafka → SpacetimeDB end to end, committed (memory only)';
const E2E_DURABLE =
  'adapter: Kafka → SpacetimeDB end to end, committed and durable (data dir, group-commit fsync)';

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

const envelopes = envelopeSource('bench', 32, 'bench');

async function produce(topic: string, messages: { key: string; value: Buffer }[]): Promise<void> {
  const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  for (let i = 0; i < messages.length; i += 1000) {
    const stamped = messages.slice(i, i + 1000);
    await producer.send({ topic, messages: stamped });
  }
  await producer.disconnect();
}

/** The A/B rounds of the durable case: devhost on its own thread vs on the service's (DEVHOST_THREAD). */
const AB_ROUNDS = Number(process.env.BENCH_ADAPTER_AB_ROUNDS ?? 2);
const threadLabel = (t: DevhostThreadMode) =>
  t === 'worker' ? 'devhost on its own worker thread' : "devhost inline on the service's thread";
const abName = (t: DevhostThreadMode, round: number) => `${E2E_DURABLE}, ${threadLabel(t)}, round ${round}`;

/**
 * The adapter on the embedded devhost: memory only, or with a data dir and the default group fsync.
 * An event counts once the adapter holds the module's confirmed answer for it (its
 * events_appended_total): with a data dir that answer leaves devhost only after the fsync, so the
 * count is "committed and durable" in either thread mode.
 */
function e2eCase(durable: boolean, ab?: { thread: DevhostThreadMode; round: number }): BenchCase {
  let service: RunningService | undefined;
  let registry: Registry | undefined;
  let e2eTopic = '';
  let dataDir: string | undefined;
  const latencies: number[] = [];
  const count = async () => {
    const metric = registry?.getSingleMetric('spacetime_sync_events_appended_total');
    if (!metric) return 0;
    return (await metric.get()).values
      .filter((v) => v.labels.source === 'kafka')
      .reduce((a, v) => a + v.value, 0);
  };
  const percentile = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const collect = async () => {
    if (latencies.length > 0 || !service?.devhost) return;
    // Per event: produced_at (set when the envelope was built) → committed_at (the reducer's timestamp).
    for (const row of await service.devhost.tableRows(service.database, 'sync_event')) {
      // Timestamps arrive as plain objects from devhost's thread (structured clone drops the class
      // and its getter): read the field itself.
      type Micros = { __timestamp_micros_since_unix_epoch__: bigint };
      const e = row as { produced_at: Micros; committed_at: Micros };
      const micros = (t: Micros) => t.__timestamp_micros_since_unix_epoch__;
      latencies.push(Number(micros(e.committed_at) - micros(e.produced_at)) / 1000);
    }
    latencies.sort((a, b) => a - b);
  };
  const cpu = { start: process.cpuUsage(), startMs: 0 };
  return {
    name: ab ? abName(ab.thread, ab.round) : durable ? E2E_DURABLE : E2E_MEMORY,
    opsPerRun: E2E_BATCH,
    ceiling: RAW_KAFKA,
    compareTo: durable ? [E2E_MEMORY, DURABLE_REDUCER] : [RAW_REDUCER],
    ...(ab
      ? {
          series: `adapter durable, ${threadLabel(ab.thread)}`,
          ...(ab.thread === 'worker' ? { seriesCompareTo: `adapter durable, ${threadLabel('inline')}` } : {}),
        }
      : {}),
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
      registry = createMetricsRegistry({ defaultMetrics: false });
      service = await startService(
        {
          spacetime: {
            kind: 'embedded',
            port: 0,
            ...(dataDir ? { dataDir } : {}),
            ...(ab ? { thread: ab.thread } : {}),
          },
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
        { registry },
      );
      cpu.start = process.cpuUsage();
      cpu.startMs = performance.now();
    },
    teardown: async () => {
      await service?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      await releaseBroker();
    },
    run: async () => {
      const before = await count();
      await produce(e2eTopic, envelopes(E2E_BATCH));
      while ((await count()) < before + E2E_BATCH) await new Promise((r) => setTimeout(r, 5));
    },
    metrics: async () => {
      await collect();
      const used = process.cpuUsage(cpu.start);
      const events = await count();
      return {
        producedToCommittedP50Ms: percentile(0.5),
        producedToCommittedP99Ms: percentile(0.99),
        // Whole process (every thread), warm-up round included: µs of CPU per committed event.
        processCpuUsPerEvent: events > 0 ? (used.user + used.system) / events : Number.NaN,
        processCpuCores: (used.user + used.system) / 1000 / (performance.now() - cpu.startMs),
      };
    },
    report: async () => {
      await collect();
      return [
        `${ab ? `${threadLabel(ab.thread)}: ` : ''}per-event produced→committed latency over ${latencies.length} events: p50 ${percentile(0.5).toFixed(1)} ms, p99 ${percentile(0.99).toFixed(1)} ms (includes producing the batch)`,
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
    // The same durable case with devhost on each thread, alternated round by round in this run.
    ...Array.from({ length: AB_ROUNDS }, (_, i) =>
      (['worker', 'inline'] as const).map((thread) => e2eCase(true, { thread, round: i + 1 })),
    ).flat(),
  ];
}
