/**
 * Effectively once under crashes: the adapter process is SIGKILLed at random points while it
 * consumes, restarted, several rounds. SpacetimeDB (devhost with a data dir, a separate lifetime)
 * must end with every envelope exactly once, per-stream seqs gapless.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import type { Devhost } from '@spacetime-sync/devhost';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PROBE_STREAM } from '../../adapter/spacetime/delivery-probe.js';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { SYNC_DB, startSyncDevhost, storedEvents } from '../support/devhost-harness.js';
import { syncEnvelope } from '../support/envelopes.js';
import { createTopics, kafkaBrokers, testKafka, uniqueTopic } from '../support/kafka-env.js';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
const STREAMS = ['acct:1', 'acct:2', 'acct:3', 'acct:4'];
const TOTAL = 2400;
const children: ChildProcess[] = [];
let devhost: Devhost | undefined;
const dirs: string[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await devhost?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function startAdapter(env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(KAFKA_|SPACETIMEDB_|INGEST_|DEVHOST_|LOG_LEVEL)/.test(k)),
  );
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"msg":"ready"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`adapter exited with ${code}: ${out}`)));
  });
  ready.catch(() => {}); // a killed child rejects it after the fact; only awaited uses matter
  return { child, ready };
}

/** Per stream in the devhost, `seq:key` in seq order (without the adapter's delivery probe). */
function keysBySeq(): Map<string, string[]> {
  const db = devhost?.databases.get(SYNC_DB);
  if (!db) throw new Error('no database');
  return new Map(
    [...storedEvents(db)]
      .filter(([s]) => s !== PROBE_STREAM)
      .map(([s, l]) => [s, l.map((x) => `${x.seq}:${x.key}`)]),
  );
}

describe('adapter under kill -9', () => {
  it('loses nothing and duplicates nothing across several killed rounds', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'adapter-crash-'));
    dirs.push(dataDir);
    devhost = await startSyncDevhost(dataDir);
    const topic = uniqueTopic('crash');
    const kafka = testKafka();
    await createTopics({ topic, numPartitions: 3 });
    const producer = kafka.producer();
    await producer.connect();
    const expected = new Map<string, string[]>(STREAMS.map((s) => [s, []]));
    const messages = Array.from({ length: TOTAL }, (_, i) => {
      const stream = STREAMS[i % STREAMS.length] as string;
      const key = `e${i}`;
      const list = expected.get(stream) as string[];
      list.push(`${list.length + 1}:${key}`);
      const value = toBinary(
        SyncEnvelopeSchema,
        syncEnvelope(stream, key, `${stream}:${i}`, BigInt(list.length), {
          kind: 'crash.v1',
          authorityTopic: 'ledger',
        }),
      );
      return { key: stream, value: Buffer.from(value) };
    });
    for (let i = 0; i < messages.length; i += 200)
      await producer.send({ topic, messages: messages.slice(i, i + 200) });
    await producer.disconnect();

    const env = {
      SPACETIMEDB_URI: devhost.url,
      SPACETIMEDB_DB: SYNC_DB,
      SPACETIMEDB_TOKEN: devhost.ownerToken,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      KAFKA_TOPICS: topic,
      KAFKA_GROUP_ID: uniqueTopic('crash-group'),
      // A killed adapter's partitions are reassigned after this long: the broker's minimum.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_DEAD_LETTER_TOPIC: uniqueTopic('crash-dlq'),
      // Small reducer calls: with the default (1,000 events) one call takes a partition's whole
      // share of the 2,400, and a round's kill would land after everything was committed.
      KAFKA_MAX_BATCH_EVENTS: '50',
      INGEST_PORT: '0',
      LOG_LEVEL: 'info',
    };
    // Each round is killed from a commit listener the moment the stored event count crosses the
    // round's threshold, so the kill lands mid-stream however fast the machine is (a timer-based
    // kill let a fast adapter finish everything first). The kill follows a SpacetimeDB commit
    // before the adapter can commit the offsets to Kafka: the window the source_cursor seek covers.
    const db = devhost.databases.get(SYNC_DB);
    if (!db) throw new Error('no database');
    let stored = 0;
    let onThreshold: (() => void) | undefined;
    let threshold = Number.POSITIVE_INFINITY;
    const stopCounting = db.onCommit((tx) => {
      for (const d of tx.deltas) if (d.table === 'sync_event') stored += d.inserts.length - d.deletes.length;
      if (stored >= threshold) {
        threshold = Number.POSITIVE_INFINITY;
        onThreshold?.();
      }
    });
    const progress: number[] = [];
    for (let round = 0; round < 4; round++) {
      const { child, ready } = startAdapter(env);
      const exited = new Promise((r) => child.once('exit', r));
      const crossed = new Promise<void>((resolve) => {
        onThreshold = () => {
          child.kill('SIGKILL');
          resolve();
        };
      });
      threshold = stored + 1 + Math.floor(Math.random() * (TOTAL / 16));
      // The adapter consumes from its Kafka start step on, before it logs ready: with several calls
      // of a partition in flight the kill can land first, a crash point like any other. An adapter
      // that exits by itself before the kill still fails here, with its output.
      await Promise.race([crossed, ready]);
      await crossed;
      await exited;
      progress.push([...keysBySeq().values()].reduce((n, l) => n + l.length, 0));
    }
    stopCounting();
    const { child } = startAdapter(env);
    await expect
      .poll(() => Object.fromEntries(keysBySeq()), { timeout: 60_000, interval: 250 })
      .toEqual(Object.fromEntries(expected));
    child.kill('SIGTERM');
    // Every kill landed mid-stream, with more work left for the next round.
    expect(progress.length).toBe(4);
    for (const p of progress) expect(p).toBeLessThan(TOTAL);
  }, 150_000);
});

describe('adapter when SpacetimeDB restarts under load', () => {
  it('reconnects and continues without loss', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'adapter-devhost-restart-'));
    dirs.push(dataDir);
    let host = await startSyncDevhost(dataDir);
    const port = host.port;
    const topic = uniqueTopic('restart');
    const kafka = testKafka();
    await createTopics({ topic, numPartitions: 2 });
    const envelopeBytes = (i: number) =>
      Buffer.from(
        toBinary(
          SyncEnvelopeSchema,
          syncEnvelope(`restart:${i % 2}`, `k${i}`, `r${i}`, BigInt(Math.floor(i / 2) + 1), {
            kind: 'restart.v1',
            authorityTopic: 'restart',
          }),
        ),
      );
    const producer = kafka.producer();
    await producer.connect();
    const send = async (from: number, to: number) =>
      producer.send({
        topic,
        messages: Array.from({ length: to - from }, (_, j) => ({
          key: `restart:${(from + j) % 2}`,
          value: envelopeBytes(from + j),
        })),
      });
    const { child, ready } = startAdapter({
      SPACETIMEDB_URI: host.url,
      SPACETIMEDB_DB: SYNC_DB,
      SPACETIMEDB_TOKEN: host.ownerToken,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      KAFKA_TOPICS: topic,
      KAFKA_GROUP_ID: uniqueTopic('restart-group'),
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_DEAD_LETTER_TOPIC: uniqueTopic('restart-dlq'),
      KAFKA_WATCHDOG_MS: '1000',
      INGEST_PORT: '0',
      LOG_LEVEL: 'info',
    });
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    await ready;
    const metricsUrl = await vi.waitFor(
      () => {
        const url = /on (http:\/\/[\d.:]+)/.exec(
          stdout.split('\n').find((l) => l.includes('/metrics')) ?? '',
        )?.[1];
        if (!url) throw new Error('the service has not printed its /metrics address');
        return url;
      },
      { timeout: 20_000 },
    );
    const restarts = async () =>
      Number(
        /spacetime_sync_kafka_consumer_restarts_total (\d+)/.exec(
          await (await fetch(`${metricsUrl}/metrics`)).text(),
        )?.[1],
      );
    await send(0, 200);
    await host.stop();
    await send(200, 400); // produced while SpacetimeDB is down
    // Down longer than the watchdog: the stuck consumer is restarted, then catches up.
    await expect.poll(restarts, { timeout: 30_000, interval: 250 }).toBeGreaterThanOrEqual(1);
    host = await startSyncDevhost(dataDir, port);
    devhost = host;
    await send(400, 600);
    const count = () => [...keysBySeq().values()].reduce((n, l) => n + l.length, 0);
    await expect.poll(count, { timeout: 60_000, interval: 250 }).toBe(600);
    const seqs = [...keysBySeq().values()].map((l) => l.map((x) => Number(x.split(':')[0])));
    for (const list of seqs) expect(list).toEqual(list.map((_, i) => i + 1));
    await producer.disconnect();
    child.kill('SIGTERM');
  }, 120_000);
});
