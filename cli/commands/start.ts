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
    .action(
      action(async () => {
        const { ConfigError, loadConfig } = await import('../../adapter/config.js');
        let config: ReturnType<typeof loadConfig>;
        try {
          config = loadConfig();
        } catch (e) {
          if (e instanceof ConfigError) throw new UsageError(`invalid configuration: ${e.message}`);
          throw e;
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
