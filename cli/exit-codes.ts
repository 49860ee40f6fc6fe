/**
 * The exit codes every command uses (README, "CLI"), and the two errors that choose one from deep
 * inside a command. Scripts and runbooks branch on these numbers, so they never change meaning.
 */
export const ExitCode = {
  /** Done; healthy; within bounds. */
  Ok: 0,
  /** The service answered: unhealthy, not within bounds, or it refused the request. */
  NotOk: 1,
  /** The command line or the environment is wrong (bad flag, invalid URL, missing setting). */
  Usage: 2,
  /** Nothing answers at the address, or what answers is not spacetime-sync / SpacetimeDB. */
  Unreachable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake in the command line or environment: exit 2 with this message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The address does not lead to the service: exit 3 with this message. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}
