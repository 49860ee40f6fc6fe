/**
 * Several adapters in one Kafka consumer group (issue 16, first part): real `spacetime-sync start`
 * processes sharing the partitions of one topic, writing to one devhost process with a data dir.
 * Adapters join, leave and are killed with -9 while the authority publishes; the invariant checker
 * must find nothing lost, nothing twice, seqs gapless. Then a producer that breaks the keying rule
 * (one stream over two partitions): what it costs is measured and nothing may vanish silently.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { afterAll, describe, expect, it } from 'vitest';
import { PROBE_STREAM } from '../../adapter/spacetime/delivery-probe.js';
import { Authority } from '../../chaos/authority.js';
import { HeadWatcher } from '../../chaos/head-watcher.js';
import { checkInvariants } from '../../chaos/invariants/check.js';
import { readDatabase, type Target } from '../../chaos/invariants/collect.js';
import { type AdapterSettings, adapterReady, startAdapterProc } from '../../chaos/procs/adapter-proc.js';
import type { Proc } from '../../chaos/procs/child.js';
import { type DevhostProc, SYNC_DB, startDevhostProc } from '../../chaos/procs/devhost-proc.js';
import { grantedWriter } from '../../chaos/procs/writer.js';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { createTopics, kafkaBrokers, testKafka, uniqueTopic } from '../support/kafka-env.js';

const procs: Proc[] = [];
const dirs: string[] = [];
const stops: (() => unknown)[] = [];
afterAll(async () => {
  for (const s of stops) await s();
  for (const p of procs) await p.kill9();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

async function setup(
  partitions: number,
): Promise<{ devhost: DevhostProc; target: Target; settings: AdapterSettings }> {
  const devhost = await startDevhostProc(await tempDir('group-devhost-'));
  procs.push(devhost.proc);
  const topic = uniqueTopic('group');
  const deadLetterTopic = uniqueTopic('group-dlq');
  await createTopics({ topic, numPartitions: partitions }, { topic: deadLetterTopic });
  const target = { uri: devhost.url, database: SYNC_DB, token: devhost.ownerToken };
  const settings: AdapterSettings = {
    spacetimeUri: devhost.url,
    database: SYNC_DB,
    token: await grantedWriter({ uri: devhost.url, database: SYNC_DB, ownerToken: devhost.ownerToken }),
    brokers: kafkaBrokers().join(','),
    topic,
    groupId: uniqueTopic('group-id'),
    deadLetterTopic,
    env: { PROBE_INTERVAL_MS: '0' },
  };
  return { devhost, target, settings };
}

async function adapter(name: string, settings: AdapterSettings): Promise<Proc> {
  const p = startAdapterProc(name, {
    ...settings,
    env: { ...settings.env, SPACETIME_SYNC_STATE_DIR: await tempDir(`${name}-state-`) },
  });
  procs.push(p);
  await adapterReady(p);
  return p;
}

/** Envelopes this adapter appended from Kafka, read off its /metrics. */
async function appendedFromKafka(p: Proc): Promise<number> {
  const url = (await p.waitFor(/\/metrics \S+ \S+ on (http:\/\/[\d.:]+)/))[1];
  const text = await (await fetch(`${url}/metrics`)).text();
  return [
    ...text.matchAll(/^spacetime_sync_events_appended_total\{[^}]*source="kafka"[^}]*\} (\d+)/gm),
  ].reduce((n, m) => n + Number(m[1]), 0);
}

describe('adapters in one consumer group', () => {
  it('share the partitions; joins, a graceful leave and a kill -9 mid-batch lose and duplicate nothing', async () => {
    const { target, settings } = await setup(6);
    const streams = Array.from({ length: 12 }, (_, i) => `group:${i}`);
    const watcher = new HeadWatcher(target, new Set([PROBE_STREAM]));
    stops.push(() => watcher.stop());
    const authority = new Authority({ brokers: settings.brokers, topic: settings.topic, streams });
    stops.push(() => authority.close());
    const total = 3000;
    const stored = (n: number) => watcher.until(() => watcher.total() >= n, 180_000, `${n} stored`);
    // Waves of events, each fault placed while a wave is being consumed.
    const a1 = await adapter('adapter-1', settings);
    const a2 = await adapter('adapter-2', settings);
    await authority.publish(600);
    await stored(300);
    const a3 = await adapter('adapter-3', settings); // joins: rebalance
    await authority.publish(600);
    await stored(900);
    await a1.stop(); // leaves gracefully: rebalance
    await authority.publish(1500);
    await stored(1300);
    const storedAtKill = watcher.total();
    await a2.kill9(); // mid-batch, most of the wave left: its partitions move after the session timeout
    const a4 = await adapter('adapter-4', settings); // joins: rebalance
    await authority.publish(300);
    await stored(total);

    const db = await readDatabase(target);
    expect(
      checkInvariants(
        { published: authority.published, ...db, clients: [] },
        { ignoreStreams: [PROBE_STREAM] },
      ),
    ).toEqual([]);
    expect(authority.published).toHaveLength(total);
    expect(storedAtKill).toBeLessThan(total); // the kill landed with work left
    // Both adapters alive at the end took part: the group shared the partitions between them.
    expect(await appendedFromKafka(a3)).toBeGreaterThan(0);
    expect(await appendedFromKafka(a4)).toBeGreaterThan(0);
  }, 400_000);

  it('a producer that breaks the keying rule (one stream over two partitions) gets regressions dead-lettered, never silently dropped', async () => {
    const { target, settings } = await setup(2);
    await adapter('mixed-1', settings);
    await adapter('mixed-2', settings);
    const total = 400;
    const authority = new Authority({
      brokers: settings.brokers,
      topic: settings.topic,
      streams: ['mixed:1'],
      partitionOf: (i) => i % 2,
    });
    stops.push(() => authority.close());
    for (let sent = 0; sent < total; sent += 50) await authority.publish(50);

    // Count the dead-lettered events by reason, while the adapters work through both partitions.
    const dead = new Map<string, string>();
    const consumer = testKafka().consumer({ groupId: uniqueTopic('dlq-reader') });
    await consumer.connect();
    stops.push(() => consumer.disconnect());
    await consumer.subscribe({ topic: settings.deadLetterTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const reason = String(message.headers?.['x-dead-letter-reason'] ?? '');
        const key = message.value ? fromBinary(SyncEnvelopeSchema, message.value).idempotencyKey : '';
        dead.set(key, reason);
      },
    });
    const watcher = new HeadWatcher(target, new Set([PROBE_STREAM]));
    stops.push(() => watcher.stop());
    await expect
      .poll(
        async () =>
          (await readDatabase(target)).stored.filter((e) => e.streamId === 'mixed:1').length + dead.size,
        {
          timeout: 180_000,
          interval: 1_000,
        },
      )
      .toBe(total);

    const db = await readDatabase(target);
    const stored = new Set(db.stored.filter((e) => e.streamId === 'mixed:1').map((e) => e.key));
    // Every published event is in exactly one place: the stream or the dead-letter topic.
    for (const p of authority.published) expect(stored.has(p.key) !== dead.has(p.key)).toBe(true);
    expect([...new Set(dead.values())].every((r) => r === 'source_regression')).toBe(true);
    // What did reach the stream is gapless and checks clean against what the authority got stored.
    const reached = authority.published.filter((p) => !dead.has(p.key));
    expect(
      checkInvariants({ published: reached, ...db, clients: [] }, { ignoreStreams: [PROBE_STREAM] }),
    ).toEqual([]);
    console.log(
      `keying rule broken: ${total} events of one stream over 2 partitions, ${stored.size} appended, ${dead.size} dead-lettered as source_regression`,
    );
  }, 300_000);
});
