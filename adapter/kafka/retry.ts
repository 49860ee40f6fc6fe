/**
 * The Kafka path's retry: a failure whose disposition is `retry` (./disposition.ts) is repeated with
 * capped, jittered backoff for as long as the batch is live, never skipped; one the envelope caused
 * is thrown at once for the caller to dead-letter. Every failure leaves as a SyncError.
 */
import { backoffDelay } from '../../shared/backoff.js';
import { isSyncError, type SyncError } from '../../shared/errors/sync-error.js';
import { reducerError } from '../spacetime/writer.js';
import { kafkaDisposition } from './disposition.js';

export interface RetryPorts {
  /** False once the batch is given up (consumer stopping, partition revoked): stop retrying. */
  readonly live: () => boolean;
  /** Runs between attempts: keep the group session alive, wait for SpacetimeDB to come back. */
  readonly between: () => Promise<void>;
  /** Every failure, before it is retried or thrown (metrics, logs). */
  readonly onFailure: (err: SyncError, retryInMs: number | undefined) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

const BACKOFF = { baseMs: 100, capMs: 5_000 };
const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function withRetry<T>(fn: () => Promise<T>, ports: RetryPorts): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const err = isSyncError(e) ? e : reducerError(e);
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
  return isSyncError(e) && kafkaDisposition(e) === 'dead_letter';
}
