/**
 * `spacetime-sync start` (what `npm start` runs): validates the configuration from the environment
 * (a bad setting stops it with the variable's name, exit 2), starts the service, says where
 * everything listens, records that for the CLI on this machine (local-service.ts), and shuts down
 * gracefully on SIGTERM/SIGINT.
 */
import type { Command } from 'commander';
import { action } from '../action.js';
import { ExitCode, UsageError } from '../exit-codes.js';

export function register(program: Command): void {
  program
    .command('start')
    .description('run the sync service; configured by environment variables (README, "Configuration")')
    .option(
      '--truncate-corrupt',
      "operator override for the embedded devhost's data dir (DEVHOST_DATA_DIR): cut a commit log damaged in the middle at the damage, log what was cut and keep it aside, and move every stream to a new epoch, instead of refusing to start",
    )
    .action(
      action(async (opts: { truncateCorrupt?: boolean }) => {
        const { ConfigError, loadConfig } = await import('../../adapter/config.js');
        let config: ReturnType<typeof loadConfig>;
        try {
          config = loadConfig();
        } catch (e) {
          if (e instanceof ConfigError) throw new UsageError(`invalid configuration: ${e.message}`);
          throw e;
        }
        if (opts.truncateCorrupt) {
          if (config.spacetime.kind !== 'embedded')
            throw new UsageError(
              '--truncate-corrupt applies to the embedded devhost only (SPACETIMEDB_URI is set)',
            );
          config = { ...config, spacetime: { ...config.spacetime, truncateCorrupt: true } };
        }
        const { runService } = await import('../run-service.js');
        const { LaneConfigError } = await import('../../legacy/config.js');
        try {
          return (await runService(config)) ? ExitCode.Ok : ExitCode.NotOk;
        } catch (e) {
          if (e instanceof LaneConfigError) throw new UsageError(`invalid configuration: ${e.message}`);
          throw e;
        }
      }),
    );
}
