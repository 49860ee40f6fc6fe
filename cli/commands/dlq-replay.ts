/**
 * `spacetime-sync dlq-replay [--reason R…] [--to T] [--dry-run]`: replays the dead-letter topic
 * (KAFKA_DEAD_LETTER_TOPIC on KAFKA_BROKERS) into each message's source topic.
 */
import type { Command } from 'commander';
import { action } from '../action.js';
import { ExitCode, UsageError } from '../exit-codes.js';

interface Options {
  readonly reason?: string[];
  readonly to?: string;
  readonly dryRun?: boolean;
}

export function register(program: Command): void {
  program
    .command('dlq-replay')
    .description(
      'replay dead-lettered envelopes into their source topic (Kafka from KAFKA_BROKERS, KAFKA_DEAD_LETTER_TOPIC)',
    )
    .option(
      '--reason <code...>',
      'only messages dead-lettered for these reasons (e.g. unauthorized unavailable)',
    )
    .option('--to <topic>', 'send to this topic instead of each message’s source topic')
    .option('--dry-run', 'list what would be replayed; send nothing')
    .action(
      action(async (opts: Options) => {
        const { ConfigError, loadConfig } = await import('../../adapter/config.js');
        let config: ReturnType<typeof loadConfig>;
        try {
          config = loadConfig();
        } catch (e) {
          if (e instanceof ConfigError) throw new UsageError(`invalid configuration: ${e.message}`);
          throw e;
        }
        if (!config.kafka)
          throw new UsageError('set KAFKA_BROKERS (and KAFKA_DEAD_LETTER_TOPIC if not the default)');
        const { replayDeadLetters } = await import('../../adapter/kafka/dead-letter-replay.js');
        const result = await replayDeadLetters({
          brokers: config.kafka.brokers,
          deadLetterTopic: config.kafka.deadLetterTopic,
          ...(config.kafka.security ? { security: config.kafka.security } : {}),
          ...(opts.reason ? { reasons: opts.reason } : {}),
          ...(opts.to ? { toTopic: opts.to } : {}),
          dryRun: opts.dryRun === true,
          onMessage: (m) =>
            console.log(
              `${m.replayed ? 'replayed' : 'skipped '} ${m.reason}\t${m.sourceTopic}@${m.sourceOffset}\t${m.detail}`,
            ),
        });
        console.log(
          `dlq-replay: ${result.replayed} replayed, ${result.skipped} skipped${opts.dryRun ? ' (dry run: nothing sent)' : ''}`,
        );
        return ExitCode.Ok;
      }),
    );
}
