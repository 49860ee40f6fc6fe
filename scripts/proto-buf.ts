/**
 * Runs the buf CLI from node_modules for the proto scripts and tests. node_modules/.bin goes first on
 * PATH, as under `npm run`, so `buf generate` finds the local protoc-gen-es plugin when invoked directly.
 */
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN_DIR = join(REPO_ROOT, 'node_modules', '.bin');

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The buf CLI (or the command) could not be started at all, as opposed to running and failing. */
export class CommandStartError extends Error {
  override readonly name = 'CommandStartError';
}

/** Runs a command to completion (or until `timeoutMs`); `cwd` defaults to the repository root. */
export function run(
  command: string,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): CommandResult {
  const result = spawnSync(command, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    // GIT_TERMINAL_PROMPT=0: a fetch that would ask for credentials fails instead of hanging CI.
    env: {
      ...process.env,
      PATH: `${BIN_DIR}${delimiter}${process.env['PATH'] ?? ''}`,
      GIT_TERMINAL_PROMPT: '0',
    },
    maxBuffer: 64 * 1024 * 1024,
    ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
  });
  if (result.error) {
    throw new CommandStartError(`could not run ${command}: ${result.error.message}`, { cause: result.error });
  }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

export function runBuf(args: readonly string[], opts: { cwd?: string } = {}): CommandResult {
  return run('buf', args, opts);
}
