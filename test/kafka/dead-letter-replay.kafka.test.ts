/** The dead-letter replay tool against the real broker: filter by reason, order kept, resumable. */
import { describe, expect, it } from 'vitest';
import { replayDeadLetters } from '../../adapter/kafka/dead-letter-replay.js';
import { DEAD_LETTER_HEADERS } from '../../adapter/kafka/kafka-source.js';
import { createTopics, kafkaBrokers, testKafka, uniqueTopic } from '../support/kafka-env.js';

describe('dead-letter replay', () => {
  it('sends the chosen reasons back to their source topic in order, exactly once across runs', async () => {
    const kafka = testKafka();
    const source = uniqueTopic('source');
    const dlq = uniqueTopic('dlq');
    await createTopics({ topic: source }, { topic: dlq });
    const producer = kafka.producer();
    await producer.connect();
    const dead = (value: string, reason: string, offset: number) => ({
      key: 'stream:1',
      value,
      headers: {
        [DEAD_LETTER_HEADERS.reason]: reason,
        [DEAD_LETTER_HEADERS.topic]: source,
        [DEAD_LETTER_HEADERS.partition]: '0',
        [DEAD_LETTER_HEADERS.offset]: String(offset),
      },
    });
    await producer.send({
      topic: dlq,
      messages: [dead('a', 'unauthorized', 3), dead('junk', 'malformed', 4), dead('b', 'unauthorized', 7)],
    });
    await producer.disconnect();

    const dry = await replayDeadLetters({
      brokers: kafkaBrokers(),
      deadLetterTopic: dlq,
      reasons: ['unauthorized'],
      dryRun: true,
    });
    expect(dry).toEqual({ replayed: 0, skipped: 3 });
    const first = await replayDeadLetters({
      brokers: kafkaBrokers(),
      deadLetterTopic: dlq,
      reasons: ['unauthorized'],
    });
    expect(first).toEqual({ replayed: 2, skipped: 1 });
    const again = await replayDeadLetters({
      brokers: kafkaBrokers(),
      deadLetterTopic: dlq,
      reasons: ['unauthorized'],
    });
    expect(again).toEqual({ replayed: 0, skipped: 0 });

    const consumer = kafka.consumer({
      groupId: uniqueTopic('check'),
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: source, fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(`${message.key}=${message.value}`);
          if (got.length === 2) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(got).toEqual(['stream:1=a', 'stream:1=b']);
  }, 60_000);
});
