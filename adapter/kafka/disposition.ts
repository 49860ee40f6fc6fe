/**
 * SyncError → what the Kafka consumer does with the envelope that caused it. `dead_letter`: the
 * envelope itself is refused and retrying cannot help, so it goes to the dead-letter topic with its
 * reason and the partition moves on. `retry`: the failure is not the envelope's; it is retried with
 * backoff and nothing after it is skipped.
 */
import type { SyncErrorReason } from '../../shared/errors/reasons.js';
import type { SyncError } from '../../shared/errors/sync-error.js';

export type KafkaDisposition = 'retry' | 'dead_letter';

const DISPOSITION: Record<SyncErrorReason, KafkaDisposition> = {
  conflict: 'dead_letter',
  invalid: 'dead_letter',
  source_regression: 'dead_letter',
  protocol_version_mismatch: 'dead_letter',
  // The adapter's identity lost its writer role: every envelope is refused alike. They go to the
  // dead-letter topic in order and are replayed once the role is granted back
  // (runbooks/dead-letters.md), rather than holding every partition until an operator acts.
  unauthorized: 'dead_letter',
  // Raised only by the HTTP surfaces' authenticator, never for a Kafka record (the broker's own
  // authentication admits the records); if it ever were, retrying the same record cannot help.
  unauthenticated: 'dead_letter',
  // Not raised by append_sync_events today; if a module ever does, the envelope named something
  // that is not there and waiting will not create it.
  stale_cursor: 'dead_letter',
  unknown_stream: 'dead_letter',
  beyond_head: 'dead_letter',
  unavailable: 'retry',
  // A limit of the moment (not raised on the Kafka path today, which has its own backpressure).
  resource_exhausted: 'retry',
  // Raised only by the Connect ingest for pipelined publishers; Kafka keeps its own partition order.
  out_of_order_sequence: 'retry',
  revision_mismatch: 'retry',
};

export const kafkaDisposition = (e: SyncError): KafkaDisposition => DISPOSITION[e.reason];
