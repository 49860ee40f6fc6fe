/**
 * Why a client's reducer call is refused before it runs, in the real host's words: an unknown or
 * private reducer, a lifecycle reducer, or arguments that are not exactly the reducer's parameters.
 */
import type { ReducerSchema, Typespace } from '../contract.js';
import { validateExact } from '../store/bsatn-layout.js';

const LIFECYCLE_NAMES = { init: 'Init', clientConnected: 'OnConnect', clientDisconnected: 'OnDisconnect' };

/** The refusal message, or undefined when the call may run. */
export function refuseClientCall(
  reducer: ReducerSchema | undefined,
  args: Uint8Array,
  typespace: Typespace,
): string | undefined {
  if (!reducer || (!reducer.clientCallable && !reducer.lifecycle)) return 'no such reducer';
  if (reducer.lifecycle)
    return `can't directly call special ${LIFECYCLE_NAMES[reducer.lifecycle]} lifecycle reducer`;
  try {
    validateExact(reducer.params, typespace, args);
  } catch (e) {
    return `invalid arguments for function ${reducer.name}: ${(e as Error).message}`;
  }
  return undefined;
}
