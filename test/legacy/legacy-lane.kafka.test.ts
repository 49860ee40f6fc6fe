/**
 * The legacy lane fed from the real broker under its own consumer group: authority events on served
 * topics reach a legacy client numbered gapless per topic; a redelivered envelope keeps its watermark;
 * other topics are counted, undecodable records skipped (the adapter dead-letters them); after a lane
 * restart the group resumes from its committed offsets and the watermarks carry on.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LegacyLaneClient, type LegacyUpdate } from '../../legacy/client/index.js';
import { type LegacyLane, mintToken, parseKeyring, startLegacyLane } from '../../legacy/index.js';
import { type SyncEnvelope, SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { syncEnvelope } from '../support/envelopes.js';
import { createTopics, kafkaBrokers, testKafka, uniqueTopic } from '../support/kafka-env.js';

const RUNS = 'runtime.run_summaries';
const EVENTS = 'runtime.codex_worker_events';
const keyring = parseKeyring('kafka-test=0123456789abcdef0123456789abcdef', 'test');
const topic = uniqueTopic('authority.events');
const groupId = uniqueTopic('legacy-lane');
const producer = testKafka().producer();
let dataDir: string;
let lane: LegacyLane | undefined;

async function produce(...values: (SyncEnvelope | Buffer)[]): Promise<void> {
  await producer.send({
    topic,
    messages: values.map((v) => ({
      value: Buffer.isBuffer(v) ? v : Buffer.from(toBinary(SyncEnvelopeSchema, v)),
    })),
  });
}

function startLane(): Promise<LegacyLane> {
  return startLegacyLane({
    dataDir,
    keyring,
    logger: pino({ level: 'silent' }),
    kafka: { brokers: kafkaBrokers(), topics: [topic], groupId },
  });
}

const run = (key: string, seq: bigint, body = `{"run":"${key}","seq":${seq}}`) =>
  syncEnvelope(`runtime/run_summary:${key}`, `${key}:${seq}`, body, seq, { authorityTopic: RUNS });
const workerEvent = (seq: bigint) =>
  syncEnvelope('runtime/codex_worker_event:w1', `w1:${seq}`, `{"seq":${seq}}`, seq, {
    authorityTopic: EVENTS,
  });

beforeAll(async () => {
  await createTopics({ topic });
  await producer.connect();
  dataDir = await mkdtemp(join(tmpdir(), 'legacy-kafka-'));
}, 120_000);

afterAll(async () => {
  await lane?.stop();
  await producer.disconnect();
});

describe('legacy lane fed from Kafka', () => {
  it('mirrors served topics gapless per topic, dedupes redeliveries, counts the rest, and resumes after a restart', async () => {
    await produce(
      run('run_1', 1n),
      workerEvent(1n),
      run('run_2', 1n),
      run('run_1', 1n),
      syncEnvelope('chat:1', 'c1', '{}', 1n, { authorityTopic: 'chat' }),
      Buffer.from('not an envelope'),
      workerEvent(2n),
    );
    lane = await startLane();
    const seen: LegacyUpdate[] = [];
    const client = await LegacyLaneClient.connect({
      url: lane.url,
      token: await mintToken(keyring, { topics: [RUNS, EVENTS] }),
      heartbeatMs: 0,
      onUpdate: (u) => seen.push(u),
    });
    await client.subscribe([RUNS, EVENTS]);
    await expect.poll(() => seen.length, { timeout: 60_000 }).toBe(4);
    const byTopic = (t: string) =>
      seen.filter((u) => u.topic === t).map((u) => [u.watermark, u.docKey, u.docVersion]);
    expect(byTopic(RUNS)).toEqual([
      [1, 'runtime/run_summary:run_1', 1],
      [2, 'runtime/run_summary:run_2', 1],
    ]);
    expect(byTopic(EVENTS)).toEqual([
      // The generation-1 document of a worker event is the event itself (parity/mapping.ts GEN1_RULES).
      [1, 'runtime/codex_worker_event:w1:1', 1],
      [2, 'runtime/codex_worker_event:w1:2', 2],
    ]);
    expect(lane.mirror.counts()).toMatchObject({ appended: 4, duplicate: 1, topic_not_served: 1 });
    expect(lane.kafka?.invalidEnvelopes).toBe(1);
    await client.close();

    await lane.stop();
    await produce(run('run_1', 2n), run('run_2', 1n));
    lane = await startLane();
    expect(lane.journal.head(RUNS)).toBe(2);
    await expect.poll(() => lane?.journal.head(RUNS), { timeout: 60_000 }).toBe(3);
    // Only the two new records were read after the restart: the group resumed from its commit.
    expect(lane.mirror.counts()).toMatchObject({ appended: 1, duplicate: 1, topic_not_served: 0 });
    expect(lane.journal.read(RUNS, 2, 10).map((r) => [r.watermark, r.doc_key, r.doc_version])).toEqual([
      [3, 'runtime/run_summary:run_1', 2],
    ]);
  }, 120_000);
});
