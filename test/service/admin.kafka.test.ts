/**
 * The operators' view: AdminService over Connect and the `status` / `head` / `lag` commands, against
 * the service consuming a real broker into the sync module on devhost.
 */
import { execFile } from 'node:child_process';
import { toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import {
  AdminService,
  ConnectionState,
  KafkaState,
} from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { ErrorInfoSchema, ErrorReason } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { authedTransport, tokenFileEnv } from '../support/auth.js';
import { syncEnvelope } from '../support/envelopes.js';
import { createTopics, testKafka, testKafkaConfig, uniqueTopic } from '../support/kafka-env.js';
import { startTestService } from '../support/service-harness.js';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
const topic = uniqueTopic('admin-authority');
const groupId = uniqueTopic('admin-adapter');
let service: RunningService;

const admin = () => createClient(AdminService, authedTransport(service.httpUrl, { roles: ['operator'] }));

/** Runs the CLI without blocking this process (the service it asks lives here). */
function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, SPACETIME_SYNC_URL: '', ...operatorToken } },
      (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

let operatorToken: Record<string, string> = {};

beforeAll(async () => {
  operatorToken = await tokenFileEnv({ roles: ['operator'] });
  const kafka = testKafka();
  await createTopics({ topic, numPartitions: 2 });
  service = await startTestService({
    kafka: testKafkaConfig({ topics: [topic], groupId, deadLetterTopic: uniqueTopic('admin-dlq') }),
  });
  const producer = kafka.producer();
  await producer.connect();
  const messages = [1, 2, 3, 4, 5].map((n) => syncEnvelope('ops:1', `k${n}`, `body ${n}`, BigInt(n)));
  // Seq 9 carries a key already used with other content: it is dead-lettered as a conflict, the
  // projection stays at authority seq 5, and a refused envelope does not count as seen (refused input
  // never moves the lag figures: security audit, bounded metrics).
  messages.push(syncEnvelope('ops:1', 'k1', 'other body', 9n));
  messages.push(syncEnvelope('ops:2', 'x1', 'x', 1n));
  await producer.send({
    topic,
    // One stream per partition, so both partitions have a committed offset to report.
    messages: messages.map((m) => ({
      key: m.streamId,
      partition: m.streamId === 'ops:2' ? 1 : 0,
      value: Buffer.from(toBinary(SyncEnvelopeSchema, m)),
    })),
  });
  await producer.disconnect();
  // The cases below read the state these five events leave: fail here, by name, if they never land.
  // (vi.waitFor, not expect.poll: expect.poll runs only inside a test.)
  await vi.waitFor(
    async () => {
      const head = await admin()
        .getStreamHead({ streamId: 'ops:1' })
        .catch(() => undefined);
      expect(head?.headSeq, "stream ops:1 reaches head 5 (the setup's events)").toBe(5n);
    },
    { timeout: 30_000, interval: 100 },
  );
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

describe('AdminService', () => {
  it('reports both links as healthy with what they point at', async () => {
    const s = await admin().getStatus({});
    expect(s.spacetimedb).toMatchObject({
      state: ConnectionState.CONNECTED,
      database: service.database,
      embedded: true,
    });
    expect(s.spacetimedb?.uri).toBe(service.spacetimeUrl);
    expect(s.kafka).toMatchObject({ state: KafkaState.CONSUMING, groupId, topics: [topic] });
    expect(s.protocolVersions.map((v) => `${v.major}.${v.minor}`)).toEqual(['1.0']);
    expect(s.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("gives a stream's head, and a typed NOT_FOUND for a stream never written", async () => {
    const h = await admin().getStreamHead({ streamId: 'ops:1' });
    expect([h.headSeq, h.lowWatermark, h.lastSourceSeq]).toEqual([5n, 1n, 5n]);
    expect(h.updatedAt).toBeDefined();
    const missing = await admin()
      .getStreamHead({ streamId: 'ops:404' })
      .catch((e: unknown) => ConnectError.from(e));
    expect((missing as ConnectError).code).toBe(Code.NotFound);
    expect((missing as ConnectError).findDetails(ErrorInfoSchema)[0]?.reason).toBe(
      ErrorReason.UNKNOWN_STREAM,
    );
    const empty = await admin()
      .getStreamHead({ streamId: '' })
      .catch((e: unknown) => ConnectError.from(e));
    expect((empty as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it('reports partition lag from committed offsets (0 once caught up), and no sequence lag for a refused envelope', async () => {
    await expect
      .poll(async () => (await admin().getLag({})).partitions.map((p) => p.lag), { timeout: 15_000 })
      .toEqual([0n, 0n]);
    const lag = await admin().getLag({ streamIds: ['ops:1', 'ops:2'] });
    expect(lag.partitions.map((p) => [p.topic, p.partition])).toEqual([
      [topic, 0],
      [topic, 1],
    ]);
    expect(lag.partitions.map((p) => [p.committedOffset, p.endOffset])).toEqual([
      [6n, 6n],
      [1n, 1n],
    ]);
    expect(lag.streams.map((s) => [s.streamId, s.lastSourceSeq, s.latestSourceSeq, s.sequenceLag])).toEqual([
      ['ops:1', 5n, 5n, 0n],
      ['ops:2', 1n, 1n, 0n],
    ]);
  });

  it('serves the cutover state, its gates reading the consumer lag of the running consumer', async () => {
    const c = await admin().getCutoverState({});
    expect(c.state?.revision).toBe(0n);
    await vi.waitFor(
      async () => {
        const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
        expect(text).toMatch(/^spacetime_sync_cutover_gate_reading\{gate="consumer_lag"\} \d+$/m);
      },
      { timeout: 30_000, interval: 200 },
    );
  });
});

describe('operator commands', () => {
  it('status, head and lag print what the service reports and exit by health and thresholds', async () => {
    const url = ['--url', service.httpUrl];
    const status = await cli('status', ...url);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/spacetimedb\s+connected/);
    expect(status.out).toMatch(new RegExp(`kafka\\s+consuming\\s+group ${groupId}`));

    const head = await cli('head', 'ops:1', ...url);
    expect(head).toMatchObject({ code: 0 });
    expect(head.out).toMatch(/ops:1\s+head 5\s+low watermark 1/);
    const missing = await cli('head', 'ops:404', ...url);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/NotFound: no stream 'ops:404'/);

    const caughtUp = await cli('lag', 'ops:1', '--max', '0', ...url);
    expect(caughtUp.code).toBe(0);
    expect(caughtUp.out).toMatch(/stream ops:1\s+appended 5\s+seen 5\s+lag 0/);

    const json = JSON.parse((await cli('head', 'ops:2', '--json', ...url)).out) as { headSeq: string };
    expect(json.headSeq).toBe('1');
    expect((await cli('status', '--url', 'http://127.0.0.1:1')).code).toBe(3);
    expect((await cli('lag', '--max', 'lots', ...url)).code).toBe(2);
  }, 60_000);

  it('status exits 1 and says why when SpacetimeDB is gone', async () => {
    await service.devhost?.stop();
    await expect.poll(() => service.writer.isConnected).toBe(false);
    const status = await cli('status', '--url', service.httpUrl);
    expect(status.code).toBe(1);
    expect(status.out).toMatch(/spacetimedb\s+reconnecting.*last error/);

    // The authority moves on while SpacetimeDB cannot take its events: the adapter has seen them and
    // not appended them, which `lag --max` turns into exit 1.
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [6, 7, 8, 9].map((n) => ({
        key: 'ops:1',
        partition: 0,
        value: Buffer.from(
          toBinary(SyncEnvelopeSchema, syncEnvelope('ops:1', `k${n}`, `body ${n}`, BigInt(n))),
        ),
      })),
    });
    await producer.disconnect();
    const url = ['--url', service.httpUrl];
    await expect
      .poll(async () => (await cli('lag', 'ops:1', '--max', '3', ...url)).code, { timeout: 20_000 })
      .toBe(1);
    expect((await cli('lag', 'ops:1', '--max', '3', ...url)).out).toMatch(
      /stream ops:1\s+appended \d+\s+seen 9\s+lag \d+/,
    );
  }, 30_000);
});
