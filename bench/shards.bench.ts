/**
 * Aggregate ingest over 1, 2 and 3 shards side by side: one adapter (in this process) consuming a
 * 6-partition topic and writing to N shards, each shard its own devhost process with a data dir and
 * the default group fsync (durable: a reducer's answer leaves only once fsynced, and the adapter
 * commits a Kafka offset only after that answer). Measured: produced → every event visible in its
 * shard's head (an owner subscription per shard). The shards run their reducers in parallel, so the
 * figure shows what adding a database buys one adapter — on this machine's 2 cores, which the
 * adapter, the broker and every devhost process share.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { type RunningService, startService } from '../adapter/service.js';
import { createLogger } from '../adapter/telemetry/logger.js';
import { HeadWatcher } from '../chaos/head-watcher.js';
import type { Proc } from '../chaos/procs/child.js';
import { SYNC_DB, startDevhostProc } from '../chaos/procs/devhost-proc.js';
import { grantedWriter } from '../chaos/procs/writer.js';
import { testAuthConfig } from '../test/support/auth.js';
import { acquireBroker, brokerList, releaseBroker } from './adapter.bench.js';
import type { BenchCase } from './harness.js';
import { envelopeSource } from './kafka-envelopes.js';

const { Kafka, logLevel } = kafkajs;
const BATCH = 3_000;
const STREAMS = 96;
export const shardCaseName = (n: number) =>
  `shards: Kafka → ${n} shard${n > 1 ? 's' : ''} end to end, 1 adapter, committed and durable (one devhost process per shard, data dir, group-commit fsync)`;

const envelopes = envelopeSource('shardbench', STREAMS, 'bench');

function shardCase(n: number): BenchCase {
  let service: RunningService | undefined;
  const procs: Proc[] = [];
  const dirs: string[] = [];
  const watchers: HeadWatcher[] = [];
  let topic = '';
  const stored = () => watchers.reduce((sum, w) => sum + w.total(), 0);
  return {
    name: shardCaseName(n),
    opsPerRun: BATCH,
    ...(n > 1 ? { compareTo: shardCaseName(1) } : {}),
    setup: async () => {
      await acquireBroker();
      const brokers = brokerList();
      topic = `bench-shards-${n}-${Date.now()}`;
      const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
      await admin.disconnect();
      const shards = [];
      for (let i = 0; i < n; i++) {
        const dir = mkdtempSync(join(tmpdir(), `bench-shard-${i}-`));
        dirs.push(dir);
        const d = await startDevhostProc(dir);
        procs.push(d.proc);
        const target = { uri: d.url, database: SYNC_DB, token: d.ownerToken };
        watchers.push(new HeadWatcher(target));
        const token = await grantedWriter({ ...target, ownerToken: d.ownerToken });
        shards.push({ name: `shard-${i}`, uri: d.url, database: SYNC_DB, token });
      }
      service = await startService(
        {
          spacetime: { kind: 'sharded', shards },
          ingest: { host: '127.0.0.1', port: 0 },
          auth: testAuthConfig,
          kafka: {
            brokers,
            topics: [topic],
            groupId: `bench-shards-${n}-${Date.now()}`,
            watchdogMs: 60_000,
            maxInFlight: 5_000,
            sessionTimeoutMs: 15_000,
            deadLetterTopic: `${topic}-dlq`,
            createTopics: true,
          },
          logLevel: 'silent',
        },
        createLogger({ level: 'silent' }),
        { defaultMetrics: false },
      );
    },
    teardown: async () => {
      await service?.stop();
      for (const w of watchers.splice(0)) w.stop();
      for (const p of procs.splice(0)) await p.kill9();
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
      await releaseBroker();
    },
    run: async () => {
      const before = stored();
      const producer = new Kafka({ brokers: brokerList(), logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      const messages = envelopes(BATCH);
      for (let i = 0; i < messages.length; i += 1000)
        await producer.send({ topic, messages: messages.slice(i, i + 1000) });
      await producer.disconnect();
      while (stored() < before + BATCH) await new Promise((r) => setTimeout(r, 5));
    },
  };
}

export default function suite(): BenchCase[] {
  return [shardCase(1), shardCase(2), shardCase(3)];
}
