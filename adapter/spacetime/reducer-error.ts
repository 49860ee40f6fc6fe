/**
 * A rejected reducer call as a SyncError, mapped once for every caller of the module (the writer,
 * ingest, cutover store, the Kafka retry policy).
 */
import { SyncError, unavailable } from '../../shared/errors/sync-error.js';

const unexplained = new WeakSet<SyncError>();

/**
 * The module's typed refusal with its detail; anything else (a crash, an internal error) as
 * SpacetimeDB being unavailable, retried.
 */
export function reducerError(e: unknown): SyncError {
  const err = SyncError.from(e);
  if (err.reason !== 'unavailable' || err.detail) return err;
  const u = unavailable('spacetimedb', err.message, e);
  // A host that says it cannot commit at all (e.g. its disk is full) is down, whatever the call.
  if (!/cannot commit/.test(err.message)) unexplained.add(u);
  return u;
}

/**
 * SpacetimeDB failed the call without a module reason: the module crashed or trapped, the reducer is
 * unknown, its arguments did not decode (bindings drift). It may pass on a retry or may be caused by
 * the call itself, so the Kafka path retries it a bounded number of times, then dead-letters it.
 */
export function isUnexplainedFailure(e: SyncError): boolean {
  return unexplained.has(e);
}
