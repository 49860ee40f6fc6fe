/**
 * `spacetime-sync dlq-replay [--reason <code> ...] [--to <topic>] [--dry-run]`: replays the
 * dead-letter topic (KAFKA_DEAD_LETTER_TOPIC on KAFKA_BROKERS) into each message's source topic.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrReport } from '../config.ts';
import { replayDeadLetters } from '../kafka/dead-letter-replay.ts';

export async function runDlqReplay(argv: string[]): Promise<number> {
  let values: { reason?: string[]; to?: string; 'dry-run'?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        reason: { type: 'string', multiple: true },
        to: { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
    }));
  } catch (e) {
    console.error(`spacetime-sync dlq-replay: ${(e as Error).message}`);
    return 2;
  }
  const config = loadConfigOrReport();
  if (!config) return 2;
  if (!config.kafka) {
    console.error(
      'spacetime-sync dlq-replay: set KAFKA_BROKERS (and KAFKA_DEAD_LETTER_TOPIC if not the default)',
    );
    return 2;
  }
  const result = await replayDeadLetters({
    brokers: config.kafka.brokers,
    deadLetterTopic: config.kafka.deadLetterTopic,
    ...(values.reason ? { reasons: values.reason } : {}),
    ...(values.to ? { toTopic: values.to } : {}),
    dryRun: values['dry-run'] === true,
    onMessage: (m) =>
      console.log(
        `${m.replayed ? 'replayed' : 'skipped '} ${m.reason}\t${m.sourceTopic}@${m.sourceOffset}\t${m.detail}`,
      ),
  });
  console.log(
    `dlq-replay: ${result.replayed} replayed, ${result.skipped} skipped${values['dry-run'] ? ' (dry run: nothing sent)' : ''}`,
  );
  return 0;
}
