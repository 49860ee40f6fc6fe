/**
 * Runs one reducer inside the open transaction and classifies how it ended, as the real host's
 * `handle_outer_error` does: a SenderError's message goes to the caller; anything else is logged with
 * its stack and the caller sees only FATAL_ERROR_MESSAGE; a reducer must return `undefined` to commit.
 */
import type { Caller, ReducerSchema } from '../contract.js';
import type { LoadedModule } from '../loader/index.js';
import type { LogLevel } from './sys-abi.js';

/** What failed reducers show the caller unless they threw a SenderError (`handle_outer_error`). */
export const FATAL_ERROR_MESSAGE = 'The instance encountered a fatal error.';

export interface ReducerRun {
  readonly reducer: ReducerSchema;
  readonly caller: Caller;
  readonly timestamp: bigint;
  readonly args: Uint8Array;
}

export type RunResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly user: boolean; readonly message: string };

export type ReducerRunner = (run: ReducerRun) => RunResult;

export function createReducerRunner(
  module: Pick<LoadedModule, 'hooks' | 'argsView'>,
  log: (level: LogLevel, message: string) => void,
): ReducerRunner {
  return (run) => {
    try {
      const ret = module.hooks.callReducer(
        run.reducer.reducerId,
        run.caller.identity,
        run.caller.connectionId,
        run.timestamp,
        module.argsView(run.args),
      );
      if (ret !== undefined)
        return { ok: false, user: false, message: 'Reducer returned a value other than `undefined`' };
      return { ok: true };
    } catch (e) {
      if (module.hooks.isSenderError(e))
        return { ok: false, user: true, message: String((e as { message?: unknown }).message) };
      log('error', `reducer ${run.reducer.name} failed: ${describeThrown(e)}`);
      return { ok: false, user: false, message: FATAL_ERROR_MESSAGE };
    }
  };
}

function describeThrown(e: unknown): string {
  const hasStack = e instanceof Error || (typeof e === 'object' && e !== null && 'stack' in e);
  return hasStack ? String((e as Error).stack ?? e) : String(e);
}
