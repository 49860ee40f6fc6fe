/**
 * The Kafka path's retry: a failure whose disposition is `retry` (./disposition.ts) is repeated with
 * capped, jittered backoff for as long as the batch is live, never skipped; one the envelope caused
 * is thrown at once for the caller to dead-letter. A failure SpacetimeDB gave without any module
 * reason (writer.ts `isUnexplainedFailure`) is repeated only `maxUnexplained` times: then it, too, is
 * thrown to be dead-lettered (with the count and the last message), so one poisoned record cannot
 * block its partition for good. Every failure leaves as a SyncError.
 */
import { backoffDelay } from '../../shared/backoff.js';
import { isSyncError, type SyncError, unavailable } from '../../shared/errors/sync-error.js';
import { isUnexplainedFailure, reducerError } from '../spacetime/writer.js';
import { kafkaDisposition } from './disposition.js';

export interface RetryPorts {
  /** False once the batch is given up (consumer stopping, partition revoked): stop retrying. */
  readonly live: () => boolean;
  /** Runs between attempts: keep the group session alive, wait for SpacetimeDB to come back. */
  readonly between: () => Promise<void>;
  /** Every failure, before it is retried or thrown (metrics, logs). */
  readonly onFailure: (err: SyncError, retryInMs: number | undefined) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Attempts that may fail without a module reason before the call is given up (default 5). */
  readonly maxUnexplained?: number;
}

export const DEFAULT_MAX_UNEXPLAINED = 5;
const exhausted = new WeakSet<SyncError>();

const BACKOFF = { baseMs: 100, capMs: 5_000 };
const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function withRetry<T>(fn: () => Promise<T>, ports: RetryPorts): Promise<T> {
  let unexplainedFailures = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const err = isSyncError(e) ? e : reducerError(e);
      if (
        isUnexplainedFailure(err) &&
        ++unexplainedFailures >= (ports.maxUnexplained ?? DEFAULT_MAX_UNEXPLAINED)
      ) {
        const gaveUp = unavailable(
          'spacetimedb',
          `SpacetimeDB failed the call ${unexplainedFailures} times without a module reason; giving up on it: ${err.message}`,
          err,
        );
        exhausted.add(gaveUp);
        ports.onFailure(gaveUp, undefined);
        throw gaveUp;
      }
      if (kafkaDisposition(err) === 'dead_letter' || !ports.live()) {
        ports.onFailure(err, undefined);
        throw err;
      }
      const delay = backoffDelay(attempt, BACKOFF);
      ports.onFailure(err, delay);
      await (ports.sleep ?? pause)(delay);
      await ports.between();
    }
  }
}

/** A failure the envelope itself caused: it goes to the dead-letter topic. */
export function refused(e: unknown): e is SyncError {
  return isSyncError(e) && (kafkaDisposition(e) === 'dead_letter' || exhausted.has(e));
}
