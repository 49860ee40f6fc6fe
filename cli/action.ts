/**
 * Commander calls an action and forgets its result; `action()` keeps the exit code the command
 * returns (or the one its error stands for) so `main` can return it. Errors are printed once, here,
 * as `spacetime-sync <command>: <message>` on stderr.
 */
import type { Command } from 'commander';
import { ExitCode, UnreachableError, UsageError } from './exit-codes.js';

let lastExitCode: number | undefined;

/** The exit code of the action that ran last (undefined when none ran, e.g. for --help). */
export function takeExitCode(): number | undefined {
  const code = lastExitCode;
  lastExitCode = undefined;
  return code;
}

function codeOf(e: unknown): number {
  if (e instanceof UsageError) return ExitCode.Usage;
  if (e instanceof UnreachableError) return ExitCode.Unreachable;
  return ExitCode.NotOk;
}

/** Wraps a command's action: its returned code (or its error's) becomes the process's exit code. */
export function action<Args extends unknown[]>(
  run: (...args: Args) => Promise<number>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    try {
      lastExitCode = await run(...args);
    } catch (e) {
      // Commander passes the Command last; its name prefixes the message.
      const command = args[args.length - 1] as Command | undefined;
      const name = command?.name?.() ? `spacetime-sync ${fullName(command)}` : 'spacetime-sync';
      const message = e instanceof Error ? e.message : String(e);
      (command?.configureOutput().writeErr ?? ((s: string) => process.stderr.write(s)))(
        `${name}: ${message}\n`,
      );
      lastExitCode = codeOf(e);
    }
  };
}

function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
