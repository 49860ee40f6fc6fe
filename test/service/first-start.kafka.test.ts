/**
 * The first `spacetime-sync start` against a broker whose topics do not exist yet: it waits and says
 * for what (or creates them with KAFKA_CREATE_TOPICS=1), becomes ready once they are there, and logs
 * nothing at error level on the way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cliEnv } from '../support/cli.js';
import { createTopics, kafkaBrokers, testKafka, uniqueTopic } from '../support/kafka-env.js';

interface LogRecord {
  readonly level: number;
  readonly msg: string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: cliEnv({
      DEVHOST_PORT: '0',
      INGEST_PORT: '0',
      PROBE_INTERVAL_MS: '0',
      KAFKA_BROKERS: kafkaBrokers().join(','),
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const records = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogRecord);
  // 'close', not 'exit': the last output can still be in the pipe when 'exit' fires.
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  return { child, records, messages: () => records().map((r) => r.msg), exited };
}

async function topicsExist(...topics: string[]): Promise<boolean> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    return topics.every((t) => existing.has(t));
  } finally {
    await admin.disconnect();
  }
}

describe('first start against Kafka', () => {
  it('waits for a missing topic with a clear message, then starts once it exists', async () => {
    const topic = uniqueTopic('first-start');
    const s = start({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: uniqueTopic('first-start-group') });
    await expect
      .poll(s.messages, { timeout: 30_000 })
      .toContain(
        `waiting for topic ${topic} to exist (create it, or set KAFKA_CREATE_TOPICS=1 to let spacetime-sync create it)`,
      );
    expect(s.messages()).not.toContain('ready');
    await createTopics({ topic });
    await expect.poll(s.messages, { timeout: 30_000 }).toContain('ready');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.records().filter((r) => r.level >= 50)).toEqual([]);
    expect(s.messages().at(-1)).toBe('stopped');
  }, 90_000);

  it('creates the topics itself with KAFKA_CREATE_TOPICS=1', async () => {
    const topic = uniqueTopic('first-create');
    const deadLetters = uniqueTopic('first-create-dlq');
    const s = start({
      KAFKA_TOPICS: topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetters,
      KAFKA_GROUP_ID: uniqueTopic('first-create-group'),
      KAFKA_CREATE_TOPICS: '1',
    });
    await expect.poll(s.messages, { timeout: 30_000 }).toContain('ready');
    expect(await topicsExist(topic, deadLetters)).toBe(true);
    expect(s.messages()).toContain('created Kafka topics (KAFKA_CREATE_TOPICS=1)');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.records().filter((r) => r.level >= 50)).toEqual([]);
  }, 90_000);

  it('a stop while it waits ends the start cleanly', async () => {
    const topic = uniqueTopic('first-stop');
    const s = start({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: uniqueTopic('first-stop-group') });
    await expect
      .poll(() => s.messages().some((m) => m.startsWith('waiting for topic')), { timeout: 30_000 })
      .toBe(true);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.messages().at(-1)).toBe('stopped');
  }, 90_000);
});
