/**
 * `spacetime-sync`: the product's one CLI. Builds the commander program from commands/index.ts and
 * turns every way a run can end into the documented exit code (exit-codes.ts): a command's own
 * result, 0 for --help, 2 for any command-line mistake commander finds.
 */
import { Command, CommanderError } from 'commander';
import { takeExitCode } from './action.js';
import { COMMANDS } from './commands/index.js';
import { ExitCode } from './exit-codes.js';

export interface Output {
  writeOut(s: string): void;
  writeErr(s: string): void;
}

const EXIT_CODES_HELP = `
Exit codes:
  0  done; healthy; within bounds
  1  the service answered: unhealthy, not within bounds, or it refused the request
  2  usage error: bad flag or argument, invalid URL, missing or invalid setting
  3  unreachable: nothing answers at the address, or what answers is not spacetime-sync/SpacetimeDB`;

export function buildProgram(output?: Output): Command {
  const program = new Command('spacetime-sync')
    .description('Sync/replay lane on SpacetimeDB: run the service, publish, tail, operate.')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  // Settings made before commands are added are inherited by every command and subcommand.
  if (output) program.configureOutput(output);
  program.addHelpText('after', EXIT_CODES_HELP);
  for (const command of COMMANDS) command.register(program);
  return program;
}

/** Runs one command line (without `node` and the script) and returns its exit code. */
export async function main(argv: readonly string[], output?: Output): Promise<number> {
  const program = buildProgram(output);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return ExitCode.Usage;
  }
  takeExitCode();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return ExitCode.Ok;
    // Everything else commander throws is a command-line mistake (message already printed).
    return ExitCode.Usage;
  }
  return takeExitCode() ?? ExitCode.Ok;
}
export { exitWhenFlushed } from './exit.js';
