/**
 * The operators' Connect API (`AdminService`): status of both links, a stream's head, and lag per
 * partition and per stream. Everything is read from state the service already holds; only partition
 * lag asks Kafka (its committed and end offsets). The cutover methods are the cutover controller's
 * (./cutover-rpcs.ts), merged into the same AdminService implementation by the service.
 */
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
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
import { SyncError, unavailable } from '../../shared/errors/sync-error.js';
import { contractViolations, invalid } from '../errors/invalid.js';
import { toConnectError } from '../errors/to-connect.js';
import type { KafkaSource, KafkaSourceState } from '../kafka/kafka-source.js';
import type { AdapterMetrics } from '../metrics.js';
import type { StreamHead } from '../ports/stream-head.js';
import { acceptedProtocols } from '../protocol.js';
import type { SpacetimeWriter } from '../spacetime/writer.js';
import { SERVICE_VERSION } from '../version.js';

export interface AdminDeps {
  /** The primary shard's writer: the link state GetStatus reports. */
  readonly writer: SpacetimeWriter;
  /** A stream's head, from its shard (../shards/shard-set.ts). */
  readonly streamHead: (streamId: string) => StreamHead | undefined;
  readonly metrics: AdapterMetrics;
  readonly spacetime: { readonly uri: string; readonly database: string; readonly embedded: boolean };
  /** The Kafka source once it runs; undefined while starting or when no brokers are configured. */
  readonly kafka: () => KafkaSource | undefined;
  readonly kafkaConfig?: { readonly groupId: string; readonly topics: readonly string[] };
  readonly startedAtMs: number;
}

/** The request's protovalidate rules (the contract's), as a typed `invalid`. */
function check<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  const violations = contractViolations(schema, message);
  if (violations.length > 0) throw toConnectError(invalid(violations));
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
        protocolVersions: acceptedProtocols(),
      });
    },

    getStreamHead(req) {
      check(GetStreamHeadRequestSchema, req);
      const s = d.streamHead(req.streamId);
      if (!s) throw toConnectError(new SyncError('unknown_stream', `no stream '${req.streamId}'`));
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
          throw toConnectError(unavailable('kafka', `Kafka did not answer: ${String(e)}`, e));
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
          const appended = d.streamHead(streamId)?.lastSourceSeq ?? 0n;
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
