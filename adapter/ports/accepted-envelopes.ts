import type { SyncEnvelope } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';

/**
 * Told about envelopes the service accepted, after their batch committed to SpacetimeDB (the ingest
 * path). The legacy-lane reference server is one: it mirrors the same authority events. A sink's
 * failure is its own: it is logged and never fails the publish that was already committed.
 */
export interface AcceptedEnvelopeSink {
  accept(envelopes: readonly SyncEnvelope[]): Promise<void>;
}
