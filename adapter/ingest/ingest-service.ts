/**
 * The Connect ingest API (`IngestService`): a runtime service publishes a batch of envelopes and gets
 * each one's (stream, seq) back once the batch is committed — one transaction, all or nothing, with
 * the same validation and idempotency as the Kafka path. Every refusal is a SyncError answered
 * through the one Connect mapping (../errors/to-connect.ts).
 */
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import type { Logger } from 'pino';
import {
  type IngestService,
  PublishOutcome,
  PublishResponseSchema,
  PublishResultSchema,
} from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import {
  NegotiateRequestSchema,
  NegotiateResponseSchema,
} from '../../proto/gen/spacetime_sync/v1/protocol_pb.js';
import { isSyncError } from '../../shared/errors/sync-error.js';
import { toEventInput } from '../envelope/to-event.js';
import { contractViolations, invalid } from '../errors/invalid.js';
import { toConnectError } from '../errors/to-connect.js';
import type { AdapterMetrics } from '../metrics.js';
import type { AcceptedEnvelopeSink } from '../ports/accepted-envelopes.js';
import type { AppendReceipt } from '../ports/reducer-sink.js';
import { acceptedProtocols, negotiate } from '../protocol.js';
import { appendRouted } from '../shards/append-routed.js';
import type { ShardSet } from '../shards/shard-set.js';
import { reducerError } from '../spacetime/writer.js';
import { SERVICE_VERSION } from '../version.js';
import { checkPublish } from './check-publish.js';
import { DEFAULT_INGEST_LIMITS, IngestGate } from './ingest-limits.js';

export function ingestService(
  shards: ShardSet,
  metrics: AdapterMetrics,
  acceptedSink?: AcceptedEnvelopeSink,
  logger?: Logger,
  maxQueued: number = DEFAULT_INGEST_LIMITS.maxQueued,
): ServiceImpl<typeof IngestService> {
  const gate = new IngestGate(maxQueued);
  return {
    async publish(req) {
      const refused = checkPublish(req);
      if (refused) throw toConnectError(refused);
      const release = gate.enter();
      if (typeof release !== 'function') {
        metrics.reducerErrors.inc({ reason: release.reason });
        throw toConnectError(release);
      }
      const events = req.envelopes.map((envelope) => toEventInput(envelope));
      let receipts: AppendReceipt[];
      try {
        // Each envelope to its stream's shard (../shards/append-routed.ts).
        receipts = await appendRouted(shards, events, (shard, r) =>
          metrics.shardEventsAppended.inc({ shard, outcome: r.status }),
        );
      } catch (e) {
        const err = isSyncError(e) ? e : reducerError(e);
        metrics.reducerErrors.inc({ reason: err.reason });
        throw toConnectError(err);
      } finally {
        release();
      }
      // Only what was written counts as seen: a refused batch never moves the lag gauge.
      for (const envelope of req.envelopes)
        metrics.sawSourceSeq(envelope.streamId, envelope.source?.authoritySeq ?? 0n);
      // Committed: a sink (the legacy lane) mirrors them; its failure is logged, the publish stands.
      await acceptedSink?.accept(req.envelopes).catch((e: unknown) => {
        logger?.error({ err: (e as Error).message }, 'accepted-envelope sink failed');
      });
      return create(PublishResponseSchema, {
        results: receipts.map((r, envelopeIndex) => {
          metrics.eventsAppended.inc({ source: 'connect', outcome: r.status });
          return create(PublishResultSchema, {
            envelopeIndex,
            streamId: r.stream,
            seq: r.seq,
            outcome: r.status === 'appended' ? PublishOutcome.APPENDED : PublishOutcome.DUPLICATE,
            epoch: shards.stream(r.stream)?.epoch ?? 0n,
          });
        }),
      });
    },
    async negotiate(req) {
      const violations = contractViolations(NegotiateRequestSchema, req);
      if (violations.length > 0) throw toConnectError(invalid(violations));
      const chosen = negotiate(req.supported);
      if (isSyncError(chosen)) throw toConnectError(chosen);
      return create(NegotiateResponseSchema, {
        chosen,
        accepted: acceptedProtocols(),
        serverVersion: SERVICE_VERSION,
      });
    },
  };
}
