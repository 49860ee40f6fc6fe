/**
 * The Connect ingest API (`IngestService`): a runtime service publishes a batch of envelopes and gets
 * each one's (stream, seq) back once the batch is committed — one transaction, all or nothing, with
 * the same validation and idempotency as the Kafka path. Every refusal is a SyncError answered
 * through the one Connect mapping (../errors/to-connect.ts). A publisher that pipelines names itself
 * and numbers its requests; they are applied in its order whatever order they arrive in
 * (./publisher-sequencer.ts).
 */
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import type { Logger } from 'pino';
import {
  type IngestService,
  PublishOutcome,
  type PublishRequest,
  type PublishResponse,
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
import { PublisherSequencer, type SequencerOptions } from './publisher-sequencer.js';

export function ingestService(
  shards: ShardSet,
  metrics: AdapterMetrics,
  acceptedSink?: AcceptedEnvelopeSink,
  logger?: Logger,
  maxQueued: number = DEFAULT_INGEST_LIMITS.maxQueued,
  sequencing: Partial<SequencerOptions> = {},
): ServiceImpl<typeof IngestService> {
  const gate = new IngestGate(maxQueued);
  // Pipelining publishers' requests start in their seq order (./publisher-sequencer.ts).
  const sequencer = new PublisherSequencer<PublishResponse>(sequencing);

  /**
   * Admits and writes one request. Synchronous up to handing the events to the writers (the order
   * the sequencer starts requests in is the order they are sent); a full queue throws at once.
   */
  function start(req: PublishRequest): Promise<PublishResponse> {
    const release = gate.enter();
    if (typeof release !== 'function') {
      metrics.reducerErrors.inc({ reason: release.reason });
      throw toConnectError(release);
    }
    const events = req.envelopes.map((envelope) => toEventInput(envelope));
    // Each envelope to its stream's shard (../shards/append-routed.ts).
    // A pipelining publisher's call carries its seq to the module, which applies it only in order.
    const publisher =
      req.publisherId === '' ? undefined : { publisherId: req.publisherId, publisherSeq: req.publisherSeq };
    const written = appendRouted(
      shards,
      events,
      (shard, r) => metrics.shardEventsAppended.inc({ shard, outcome: r.status }),
      publisher,
    );
    return answer(req, written, release);
  }

  async function answer(
    req: PublishRequest,
    written: Promise<AppendReceipt[]>,
    release: () => void,
  ): Promise<PublishResponse> {
    let receipts: AppendReceipt[];
    try {
      receipts = await written;
    } catch (e) {
      const err = isSyncError(e) ? e : reducerError(e);
      metrics.reducerErrors.inc({ reason: err.reason });
      // The SyncError itself, so the sequencer sees whether it was retryable; published as Connect below.
      throw err;
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
  }

  return {
    async publish(req) {
      const refused = checkPublish(req);
      if (refused) throw toConnectError(refused);
      try {
        if (req.publisherId === '') return await start(req);
        return await sequencer.submit(req.publisherId, req.publisherSeq, () => start(req));
      } catch (e) {
        if (!isSyncError(e)) throw e;
        if (e.reason === 'out_of_order_sequence') metrics.reducerErrors.inc({ reason: e.reason });
        throw toConnectError(e);
      }
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
