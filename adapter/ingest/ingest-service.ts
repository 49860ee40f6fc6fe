/**
 * The Connect ingest API (`IngestService`): a runtime service publishes a batch of envelopes and gets
 * each one's (stream, seq) back once the batch is committed — one transaction, all or nothing, with
 * the same validation and idempotency as the Kafka path.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import type { Logger } from 'pino';
import { ErrorInfoSchema, ErrorReason } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import {
  type IngestService,
  PublishOutcome,
  PublishResponseSchema,
  PublishResultSchema,
} from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import {
  NegotiateResponseSchema,
  ProtocolVersionSchema,
} from '../../proto/gen/spacetime_sync/v1/protocol_pb.js';
import { checkEnvelope } from '../envelope/decode.js';
import { toEventInput } from '../envelope/to-event.js';
import { AdapterError, type AdapterErrorCode } from '../errors.js';
import type { AdapterMetrics } from '../metrics.js';
import type { AcceptedEnvelopeSink } from '../ports/accepted-envelopes.js';
import type { SpacetimeWriter } from '../spacetime/writer.js';
import { SERVICE_VERSION } from '../version.js';

/** The protocol this server speaks; majors must match, minors negotiate down. */
export const SERVER_PROTOCOL = { major: 1, minor: 0 } as const;

const CODES: Record<AdapterErrorCode, [Code, ErrorReason]> = {
  malformed: [Code.InvalidArgument, ErrorReason.INVALID],
  invalid: [Code.InvalidArgument, ErrorReason.INVALID],
  hash_mismatch: [Code.InvalidArgument, ErrorReason.INVALID],
  conflict: [Code.AlreadyExists, ErrorReason.CONFLICT],
  unauthorized: [Code.PermissionDenied, ErrorReason.UNAUTHORIZED],
  unavailable: [Code.Unavailable, ErrorReason.UNAVAILABLE],
};

export function toConnectError(e: AdapterError, prefix = ''): ConnectError {
  const [code, reason] = CODES[e.code];
  const info = create(ErrorInfoSchema, { reason, retryable: !e.permanent });
  return new ConnectError(`${prefix}${e.message}`, code, undefined, [{ desc: ErrorInfoSchema, value: info }]);
}

export function ingestService(
  writer: SpacetimeWriter,
  metrics: AdapterMetrics,
  acceptedSink?: AcceptedEnvelopeSink,
  logger?: Logger,
): ServiceImpl<typeof IngestService> {
  return {
    async publish(req) {
      if (req.envelopes.length === 0) return create(PublishResponseSchema, { results: [] });
      const events = req.envelopes.map((envelope, i) => {
        const checked = checkEnvelope(envelope);
        if (!checked.ok) throw toConnectError(checked.error, `envelope ${i}: `);
        metrics.sawSourceSeq(envelope.streamId, envelope.source?.authoritySeq ?? 0n);
        return toEventInput(envelope);
      });
      let receipts: Awaited<ReturnType<SpacetimeWriter['appendBatch']>>;
      try {
        receipts = await writer.appendBatch(events);
      } catch (e) {
        const err = e instanceof AdapterError ? e : new AdapterError('unavailable', String(e));
        metrics.reducerErrors.inc({ code: err.code });
        throw toConnectError(err);
      }
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
            epoch: writer.stream(r.stream)?.epoch ?? 0n,
          });
        }),
      });
    },
    async negotiate(req) {
      const same = req.supported.filter((v) => v.major === SERVER_PROTOCOL.major);
      const accepted = [create(ProtocolVersionSchema, SERVER_PROTOCOL)];
      if (same.length === 0) {
        return create(NegotiateResponseSchema, { accepted, serverVersion: SERVICE_VERSION });
      }
      const minor = Math.min(SERVER_PROTOCOL.minor, Math.max(...same.map((v) => v.minor)));
      return create(NegotiateResponseSchema, {
        chosen: create(ProtocolVersionSchema, { major: SERVER_PROTOCOL.major, minor }),
        accepted,
        serverVersion: SERVICE_VERSION,
      });
    },
  };
}
