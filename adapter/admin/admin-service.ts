/**
 * The operators' Connect API (`AdminService`): status of both links, a stream's head, and lag per
 * partition and per stream. Everything is read from state the service already holds; only partition
 * lag asks Kafka (its committed and end offsets). The cutover methods belong to the cutover
 * controller and are not served yet: Connect answers them with `unimplemented`.
 */
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import { createValidator } from '@bufbuild/protovalidate';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import {
  type AdminService,
  ConnectionState,
  GetLagRequestSchema,
  GetLagResponseSchema,
  GetStatusResponseSchema,
  GetStreamHeadRequestSchema,
  GetStreamHeadResponseSchema,
  KafkaState,
  PartitionLagSchema,
  StreamLagSchema,
} from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { ErrorInfoSchema, ErrorReason } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { ProtocolVersionSchema } from '../../proto/gen/spacetime_sync/v1/protocol_pb.js';
import { SERVER_PROTOCOL } from '../ingest/ingest-service.js';
import type { KafkaSource, KafkaSourceState } from '../kafka/kafka-source.js';
import type { AdapterMetrics } from '../metrics.js';
import type { SpacetimeWriter } from '../spacetime/writer.js';
import { SERVICE_VERSION } from '../version.js';

export interface AdminDeps {
  readonly writer: SpacetimeWriter;
  readonly metrics: AdapterMetrics;
  readonly spacetime: { readonly uri: string; readonly database: string; readonly embedded: boolean };
  /** The Kafka source once it runs; undefined while starting or when no brokers are configured. */
  readonly kafka: () => KafkaSource | undefined;
  readonly kafkaConfig?: { readonly groupId: string; readonly topics: readonly string[] };
  readonly startedAtMs: number;
}

const validator = createValidator();

function invalid(violations: string): ConnectError {
  const info = create(ErrorInfoSchema, { reason: ErrorReason.INVALID, retryable: false });
  return new ConnectError(violations, Code.InvalidArgument, undefined, [
    { desc: ErrorInfoSchema, value: info },
  ]);
}

/** The request's protovalidate rules (the contract's), as a typed INVALID_ARGUMENT. */
function check<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  const result = validator.validate(schema, message);
  if (result.kind === 'invalid') throw invalid(result.violations.map((v) => v.toString()).join('; '));
  if (result.kind === 'error') throw invalid(result.error.message);
}

const KAFKA_STATES: Record<KafkaSourceState, KafkaState> = {
  connecting: KafkaState.CONNECTING,
  consuming: KafkaState.CONSUMING,
  rebalancing: KafkaState.REBALANCING,
  paused: KafkaState.PAUSED,
  crashed: KafkaState.CRASHED,
  stopped: KafkaState.STOPPED,
};

const CONNECTION_STATES = {
  connected: ConnectionState.CONNECTED,
  reconnecting: ConnectionState.RECONNECTING,
  closed: ConnectionState.DISCONNECTED,
} as const;

const timestampFromMicros = (micros: bigint) => timestampFromMs(Number(micros / 1000n));

export function adminService(d: AdminDeps): Partial<ServiceImpl<typeof AdminService>> {
  return {
    getStatus() {
      const link = d.writer.connection;
      const source = d.kafka();
      const kafkaStatus = source?.status();
      return create(GetStatusResponseSchema, {
        version: SERVICE_VERSION,
        uptime: durationFromMs(Date.now() - d.startedAtMs),
        startedAt: timestampFromMs(d.startedAtMs),
        spacetimedb: {
          state: CONNECTION_STATES[link.state],
          uri: d.spacetime.uri,
          database: d.spacetime.database,
          embedded: d.spacetime.embedded,
          identity: link.identity ?? '',
          ...(link.lastError !== undefined ? { lastError: link.lastError } : {}),
        },
        kafka: {
          state: !d.kafkaConfig
            ? KafkaState.DISABLED
            : kafkaStatus
              ? KAFKA_STATES[kafkaStatus.state]
              : KafkaState.CONNECTING,
          groupId: d.kafkaConfig?.groupId ?? '',
          topics: [...(d.kafkaConfig?.topics ?? [])],
          ...(kafkaStatus?.lastError !== undefined ? { lastError: kafkaStatus.lastError } : {}),
        },
        protocolVersions: [create(ProtocolVersionSchema, SERVER_PROTOCOL)],
      });
    },

    getStreamHead(req) {
      check(GetStreamHeadRequestSchema, req);
      const s = d.writer.stream(req.streamId);
      if (!s) {
        const info = create(ErrorInfoSchema, { reason: ErrorReason.UNKNOWN_STREAM, retryable: false });
        throw new ConnectError(`no stream '${req.streamId}'`, Code.NotFound, undefined, [
          { desc: ErrorInfoSchema, value: info },
        ]);
      }
      return create(GetStreamHeadResponseSchema, {
        streamId: req.streamId,
        headSeq: s.head,
        lowWatermark: s.lowWatermark,
        epoch: s.epoch,
        lastSourceSeq: s.lastSourceSeq,
        updatedAt: timestampFromMicros(s.updatedAtMicros),
      });
    },

    async getLag(req) {
      check(GetLagRequestSchema, req);
      const source = d.kafka();
      let partitions: Awaited<ReturnType<KafkaSource['partitionLag']>> = [];
      if (source) {
        try {
          partitions = await source.partitionLag();
        } catch (e) {
          const info = create(ErrorInfoSchema, { reason: ErrorReason.UNAVAILABLE, retryable: true });
          throw new ConnectError(`Kafka did not answer: ${String(e)}`, Code.Unavailable, undefined, [
            { desc: ErrorInfoSchema, value: info },
          ]);
        }
      }
      return create(GetLagResponseSchema, {
        partitions: partitions.map((p) =>
          create(PartitionLagSchema, {
            topic: p.topic,
            partition: p.partition,
            committedOffset: p.committedOffset,
            endOffset: p.endOffset,
            lag: p.lag,
          }),
        ),
        streams: req.streamIds.map((streamId) => {
          const appended = d.writer.stream(streamId)?.lastSourceSeq ?? 0n;
          const seen = d.metrics.latestSourceSeq(streamId) ?? appended;
          const latest = seen > appended ? seen : appended;
          return create(StreamLagSchema, {
            streamId,
            lastSourceSeq: appended,
            latestSourceSeq: latest,
            sequenceLag: latest - appended,
          });
        }),
        observedAt: timestampFromMs(Date.now()),
      });
    },
  };
}
