/**
 * The runbooks' commands, run exactly as written against a real service, broker and devhost, each in
 * the situation its runbook is for. A runbook that stops working fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { toBinary } from '@bufbuild/protobuf';
import type { Devhost } from '@spacetime-sync/devhost';
import { Identity } from 'spacetimedb';
import { afterAll, describe, expect, it } from 'vitest';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { tokenFileEnv } from '../support/auth.js';
import { connect, SYNC_DB, startSyncDevhost } from '../support/devhost-harness.js';
import { syncEnvelope } from '../support/envelopes.js';
import { createTopics, kafkaBrokers, testKafka, testKafkaConfig, uniqueTopic } from '../support/kafka-env.js';
import { explain, RUNBOOKS_DIR, runbookSteps, runRunbook } from '../support/runbook.js';
import { startTestService } from '../support/service-harness.js';

/** The runbooks some test in this folder runs (the file each runRunbook call names), each in its own situation. */
function tested(): string[] {
  const dir = new URL('./', import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .flatMap((f) =>
      [...readFileSync(new URL(f, dir), 'utf8').matchAll(/runRunbook\(\s*'([^']+)'/g)].map((m) => m[1] ?? ''),
    );
}
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const s of stops.reverse()) await s();
});

/** A running service on its own topics, writing to `devhost` as `token` (or embedded when absent). */
async function serviceOn(devhost: Devhost | undefined, token?: string) {
  const topic = uniqueTopic('runbook-authority');
  const deadLetterTopic = uniqueTopic('runbook-dlq');
  await createTopics({ topic }, { topic: deadLetterTopic });
  const service = await startTestService({
    ...(devhost
      ? { spacetime: { kind: 'remote', uri: devhost.url, database: SYNC_DB, ...(token ? { token } : {}) } }
      : {}),
    kafka: testKafkaConfig({ topics: [topic], groupId: uniqueTopic('runbook-adapter'), deadLetterTopic }),
  });
  stops.push(() => service.stop());
  const produce = async (stream: string, count: number) => {
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({
        key: stream,
        value: Buffer.from(
          toBinary(SyncEnvelopeSchema, syncEnvelope(stream, `k${i + 1}`, `event ${i + 1}`, BigInt(i + 1))),
        ),
      })),
    });
    await producer.disconnect();
  };
  return { service, topic, deadLetterTopic, produce };
}

describe('runbooks', () => {
  it('every runbook is run by a test in test/runbooks/, and every one has commands to run', () => {
    const files = readdirSync(RUNBOOKS_DIR).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(files.sort()).toEqual([...new Set(tested())].sort());
    for (const f of files) expect(runbookSteps(f).length).toBeGreaterThan(0);
  });

  it('health-check.md: every step succeeds on a healthy lane and shows what it promises', async () => {
    const { service, produce } = await serviceOn(undefined);
    await produce('orders:7', 3);
    await expect.poll(() => service.writer.streams().get('orders:7')?.head, { timeout: 20_000 }).toBe(3n);
    const results = await runRunbook('health-check.md', {
      SPACETIME_SYNC_URL: service.httpUrl,
      ...(await tokenFileEnv({ roles: ['operator'] })),
      STREAM: 'orders:7',
    });
    expect(
      results.every((r) => r.code === 0),
      explain(results),
    ).toBe(true);
    expect(results).toHaveLength(runbookSteps('health-check.md').length);
    const out = results.map((r) => r.out).join('\n');
    expect(out).toMatch(/spacetimedb\s+connected/);
    expect(out).toMatch(/orders:7\s+head 3\s+low watermark 1/);
    expect(out).toMatch(/^spacetime_sync_spacetimedb_connected 1$/m);
  }, 120_000);

  it('dead-letters.md: envelopes refused as unauthorized are granted, replayed and land in order', async () => {
    const devhost = await startSyncDevhost();
    stops.push(() => devhost.stop());
    // The service writes as an identity the owner granted writer; an operator, a writer too, revokes
    // it: everything the service consumes is dead-lettered as unauthorized.
    const owner = await connect(devhost, devhost.ownerToken);
    const operator = await connect(devhost);
    const adapter = await connect(devhost);
    for (const [who, label] of [
      [operator, 'sre'],
      [adapter, 'spacetime-sync-adapter'],
    ] as const)
      await owner.conn.reducers.grantWriter({ identity: Identity.fromString(who.identityHex), label });
    await operator.conn.reducers.revokeWriter({ identity: Identity.fromString(adapter.identityHex) });
    for (const c of [owner, operator, adapter]) c.conn.disconnect();
    const { service, deadLetterTopic, produce } = await serviceOn(devhost, adapter.token);
    await produce('billing:3', 4);
    await expect
      .poll(
        async () =>
          (await (await fetch(`${service.httpUrl}/metrics`)).text()).match(
            /dead_letter_total\{reason="unauthorized"\} (\d+)/,
          )?.[1],
        { timeout: 20_000 },
      )
      .toBe('4');
    expect(service.writer.streams().get('billing:3')).toBeUndefined();

    const results = await runRunbook('dead-letters.md', {
      SPACETIME_SYNC_URL: service.httpUrl,
      ...(await tokenFileEnv({ roles: ['operator'] })),
      STREAM: 'billing:3',
      KAFKA_BROKERS: kafkaBrokers().join(','),
      KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
      SPACETIMEDB_URI: devhost.url,
      SPACETIMEDB_DB: SYNC_DB,
      SPACETIMEDB_TOKEN: operator.token,
    });
    expect(
      results.every((r) => r.code === 0),
      explain(results),
    ).toBe(true);
    expect(results).toHaveLength(runbookSteps('dead-letters.md').length);
    const out = results.map((r) => r.out).join('\n');
    expect(out).toMatch(/skipped\s+unauthorized\t\S+@\d+\t[0-9a-f]{64} is not a sync writer/);
    expect(out).toMatch(/granted write access to [0-9a-f]{64}/);
    expect(out).toMatch(/dlq-replay: 4 replayed, 0 skipped/);
    expect(out).toMatch(/billing:3\s+head 4/);
    expect(service.writer.streams().get('billing:3')?.head).toBe(4n);
  }, 180_000);
});
