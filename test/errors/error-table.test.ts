/**
 * The error contract end to end, one row per failure: each is caused for real (the sync module on
 * devhost through the SDK, the adapter's own decoder and writer), read at the boundary that meets it
 * (SyncError.from / the writer), answered through the one Connect mapping and the Connect wire
 * format, and given its Kafka disposition. The rows together raise every reason of the contract.
 */

import type { IncomingMessage } from 'node:http';
import { create, type DescMessage, type MessageShape, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { errorFromJsonBytes, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import type { Devhost } from '@spacetime-sync/devhost';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureLimiter } from '../../adapter/auth/failure-limiter.js';
import { createAuthenticator } from '../../adapter/auth/setup.js';
import { decodeEnvelope } from '../../adapter/envelope/decode.js';
import { toConnectError } from '../../adapter/errors/to-connect.js';
import { authGate } from '../../adapter/http/auth-gate.js';
import { IngestGate } from '../../adapter/ingest/ingest-limits.js';
import { PublisherSequencer } from '../../adapter/ingest/publisher-sequencer.js';
import { type KafkaDisposition, kafkaDisposition } from '../../adapter/kafka/disposition.js';
import { reducerError, SpacetimeWriter } from '../../adapter/spacetime/writer.js';
import { createLogger } from '../../adapter/telemetry/logger.js';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import {
  ConflictDetailSchema,
  ErrorInfoSchema,
  ErrorReason,
  InvalidDetailSchema,
  ProtocolVersionMismatchDetailSchema,
  PublisherSequenceDetailSchema,
  ResourceExhaustedDetailSchema,
  SourceRegressionDetailSchema,
  StaleCursorDetailSchema,
  UnauthorizedDetailSchema,
  UnavailableDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { ProtocolVersionSchema } from '../../proto/gen/spacetime_sync/v1/protocol_pb.js';
import { REASONS, SYNC_ERROR_REASONS } from '../../shared/errors/reasons.js';
import { isSyncError, SyncError } from '../../shared/errors/sync-error.js';
import { sha256 } from '../../shared/payload-hash.js';
import { testAuthConfig } from '../support/auth.js';
import { type Connected, connect, SYNC_DB, startSyncDevhost } from '../support/devhost-harness.js';
import { syncEnvelope } from '../support/envelopes.js';
import { eventInput } from '../support/sync-events.js';

let devhost: Devhost;
let writer: SpacetimeWriter;
let owner: Connected;
let stranger: Connected;

beforeAll(async () => {
  devhost = await startSyncDevhost();
  writer = await SpacetimeWriter.connect({
    uri: devhost.url,
    database: SYNC_DB,
    token: devhost.ownerToken,
    logger: createLogger({ level: 'silent' }),
  });
  owner = await connect(devhost, devhost.ownerToken);
  stranger = await connect(devhost);
  await writer.appendBatch([eventInput('t:1', 'first', { body: 'original', sourceSeq: 10n })]);
  await owner.conn.reducers.openComputeAssignment({ requestId: 'r1', providerId: 'p', detail: 'd' });
}, 60_000);

afterAll(async () => {
  owner?.conn.disconnect();
  stranger?.conn.disconnect();
  await writer?.close();
  await devhost?.stop();
});

/** What the call threw, as the boundary that meets it reads it. */
async function refusal(
  call: Promise<unknown>,
  read: (e: unknown) => SyncError = SyncError.from,
): Promise<SyncError> {
  try {
    await call;
  } catch (e) {
    return read(e);
  }
  throw new Error('the call succeeded');
}

interface Row {
  readonly failure: string;
  readonly cause: () => Promise<SyncError>;
  readonly code: Code;
  readonly reason: ErrorReason;
  readonly retryable: boolean;
  readonly detail?: { schema: DescMessage; fields: Record<string, unknown> };
  readonly kafka: KafkaDisposition;
}

const detail = <D extends DescMessage>(schema: D, fields: Partial<MessageShape<D>>) => ({ schema, fields });
const offered = (body: string) => sha256(new TextEncoder().encode(body));

const rows: Row[] = [
  {
    failure: 'append: a reused key with another payload (second in its batch)',
    cause: () =>
      refusal(
        writer.appendBatch([eventInput('t:1', 'new'), eventInput('t:1', 'first', { body: 'CHANGED' })]),
      ),
    code: Code.AlreadyExists,
    reason: ErrorReason.CONFLICT,
    retryable: false,
    detail: detail(ConflictDetailSchema, {
      streamId: 't:1',
      idempotencyKey: 'first',
      existingSeq: 1n,
      existingPayloadHash: offered('original'),
      offeredPayloadHash: offered('CHANGED'),
      envelopeIndex: 1,
    }),
    kafka: 'dead_letter',
  },
  {
    failure: 'append: a payload hash of the wrong length',
    cause: () => refusal(writer.appendBatch([{ ...eventInput('t:2', 'k'), payloadHash: new Uint8Array(3) }])),
    code: Code.InvalidArgument,
    reason: ErrorReason.INVALID,
    retryable: false,
    detail: detail(InvalidDetailSchema, {
      fieldViolations: [
        expect.objectContaining({ field: 'envelopes[0].payload_hash', ruleId: 'payload_hash.length' }),
      ],
    }),
    kafka: 'dead_letter',
  },
  {
    failure: "append: a new key from the authority's past",
    cause: () => refusal(writer.appendBatch([eventInput('t:1', 'late', { sourceSeq: 9n })])),
    code: Code.FailedPrecondition,
    reason: ErrorReason.SOURCE_REGRESSION,
    retryable: false,
    detail: detail(SourceRegressionDetailSchema, {
      streamId: 't:1',
      authorityTopic: 'authority',
      lastAuthoritySeq: 10n,
      offeredAuthoritySeq: 9n,
      envelopeIndex: 0,
    }),
    kafka: 'dead_letter',
  },
  {
    failure: 'append: a new key under an authority seq another event holds',
    cause: () =>
      refusal(writer.appendBatch([eventInput('t:1', 'usurper', { body: 'other', sourceSeq: 10n })])),
    code: Code.FailedPrecondition,
    reason: ErrorReason.SOURCE_REGRESSION,
    retryable: false,
    detail: detail(SourceRegressionDetailSchema, {
      streamId: 't:1',
      authorityTopic: 'authority',
      lastAuthoritySeq: 10n,
      offeredAuthoritySeq: 10n,
      envelopeIndex: 0,
    }),
    kafka: 'dead_letter',
  },
  {
    failure:
      "append: an authority seq too far past its topic's newest (one envelope must not block a stream)",
    cause: () =>
      refusal(
        writer.appendBatch([
          eventInput('t:5', 'ok', { sourceSeq: 1n }),
          eventInput('t:5', 'huge', { sourceSeq: 2n ** 64n - 1n }),
        ]),
      ),
    code: Code.InvalidArgument,
    reason: ErrorReason.INVALID,
    retryable: false,
    detail: detail(InvalidDetailSchema, {
      fieldViolations: [
        expect.objectContaining({
          field: 'envelopes[1].source.authority_seq',
          ruleId: 'authority_seq.max_forward_jump',
          description: expect.stringContaining('allowed step of 1000000'),
        }),
      ],
    }),
    kafka: 'dead_letter',
  },
  {
    failure: 'append by an identity that is not a writer',
    cause: () =>
      refusal(
        stranger.conn.reducers.appendSyncEvents({ events: [eventInput('t:3', 'k')], cursor: undefined }),
      ),
    code: Code.PermissionDenied,
    reason: ErrorReason.UNAUTHORIZED,
    retryable: false,
    detail: detail(UnauthorizedDetailSchema, { action: 'append events', resource: '' }),
    kafka: 'dead_letter',
  },
  {
    failure: 'a Connect call to the service without a bearer token',
    cause: async () => {
      const gate = authGate(await createAuthenticator(testAuthConfig), () => {});
      const answer = await gate.call(
        { headers: {} } as IncomingMessage,
        'spacetime_sync.v1.IngestService/Publish',
      );
      if (!isSyncError(answer)) throw new Error('admitted');
      return answer;
    },
    code: Code.Unauthenticated,
    reason: ErrorReason.UNAUTHENTICATED,
    retryable: false,
    detail: detail(UnauthorizedDetailSchema, {
      action: 'spacetime_sync.v1.IngestService/Publish',
      resource: '',
    }),
    kafka: 'dead_letter',
  },
  {
    failure: 'ack_checkpoint naming an old epoch',
    cause: () =>
      refusal(owner.conn.reducers.ackCheckpoint({ clientId: 'c', streamId: 't:1', ackedSeq: 1n, epoch: 7n })),
    code: Code.FailedPrecondition,
    reason: ErrorReason.STALE_CURSOR,
    retryable: false,
    detail: detail(StaleCursorDetailSchema, {
      streamId: 't:1',
      requestedWatermark: 1n,
      lowWatermark: 1n,
      epoch: 1n,
      requestedEpoch: 7n,
    }),
    kafka: 'dead_letter',
  },
  {
    failure: "ack_checkpoint beyond the stream's head",
    cause: () =>
      refusal(owner.conn.reducers.ackCheckpoint({ clientId: 'c', streamId: 't:1', ackedSeq: 5n, epoch: 1n })),
    code: Code.OutOfRange,
    reason: ErrorReason.BEYOND_HEAD,
    retryable: false,
    kafka: 'dead_letter',
  },
  {
    failure: 'ack_checkpoint on a stream never written',
    cause: () =>
      refusal(
        owner.conn.reducers.ackCheckpoint({ clientId: 'c', streamId: 'none', ackedSeq: 1n, epoch: 1n }),
      ),
    code: Code.NotFound,
    reason: ErrorReason.UNKNOWN_STREAM,
    retryable: false,
    kafka: 'dead_letter',
  },
  {
    failure: 'update_compute_assignment with a revision read before another update',
    cause: () =>
      refusal(
        owner.conn.reducers.updateComputeAssignment({
          requestId: 'r1',
          expectedRevision: 5n,
          status: 'running',
          detail: '',
        }),
      ),
    code: Code.Aborted,
    reason: ErrorReason.REVISION_MISMATCH,
    retryable: true,
    kafka: 'retry',
  },
  {
    failure: 'a reducer call that fails without a module refusal (SpacetimeDB itself)',
    cause: async () => reducerError(new Error('The instance encountered a fatal error.')),
    code: Code.Unavailable,
    reason: ErrorReason.UNAVAILABLE,
    retryable: true,
    detail: detail(UnavailableDetailSchema, { dependency: 'spacetimedb' }),
    kafka: 'retry',
  },
  {
    failure: 'a Connect call from an address that used up its failed authentications',
    cause: async () => {
      const limiter = new FailureLimiter({ burst: 1, windowMs: 60_000, maxPeers: 10 });
      const gate = authGate(await createAuthenticator(testAuthConfig), () => {}, limiter);
      const req = { headers: {}, socket: { remoteAddress: '192.0.2.7' } } as IncomingMessage;
      await gate.call(req, 'spacetime_sync.v1.IngestService/Publish');
      const answer = await gate.call(req, 'spacetime_sync.v1.IngestService/Publish');
      if (!isSyncError(answer)) throw new Error('admitted');
      return answer;
    },
    code: Code.ResourceExhausted,
    reason: ErrorReason.RESOURCE_EXHAUSTED,
    retryable: true,
    detail: detail(ResourceExhaustedDetailSchema, { limit: 'failed authentications', max: 1n }),
    kafka: 'retry',
  },
  {
    failure: 'ingest: a publish past the ingest queue depth',
    cause: async () => {
      const gate = new IngestGate(1);
      gate.enter();
      const refused = gate.enter();
      if (typeof refused === 'function') throw new Error('entered');
      return refused;
    },
    code: Code.ResourceExhausted,
    reason: ErrorReason.RESOURCE_EXHAUSTED,
    retryable: true,
    detail: detail(ResourceExhaustedDetailSchema, { limit: 'ingest queue', max: 1n }),
    kafka: 'retry',
  },
  {
    failure: 'ingest: a pipelined publish ahead of its predecessor, with the hold full',
    cause: async () => {
      const sequencer = new PublisherSequencer<void>({ maxHeld: 0 });
      await sequencer.submit('pub-1', 1n, () => Promise.resolve());
      const refused = await sequencer.submit('pub-1', 3n, () => Promise.resolve()).catch((e: unknown) => e);
      if (!isSyncError(refused)) throw new Error('admitted');
      return refused;
    },
    code: Code.Aborted,
    reason: ErrorReason.OUT_OF_ORDER_SEQUENCE,
    retryable: true,
    detail: detail(PublisherSequenceDetailSchema, { publisherId: 'pub-1', expectedSeq: 2n, offeredSeq: 3n }),
    kafka: 'retry',
  },
  {
    failure: "append_publisher_events: a publisher's call ahead of the seq the module applies next",
    cause: () =>
      refusal(writer.appendPublished([eventInput('t:pub', 'k')], { publisherId: 'pub-m', publisherSeq: 2n })),
    code: Code.Aborted,
    reason: ErrorReason.OUT_OF_ORDER_SEQUENCE,
    retryable: true,
    detail: detail(PublisherSequenceDetailSchema, { publisherId: 'pub-m', expectedSeq: 1n, offeredSeq: 2n }),
    kafka: 'retry',
  },
  {
    failure: 'Kafka bytes that are not a SyncEnvelope',
    cause: async () => {
      const d = decodeEnvelope(new TextEncoder().encode('not a protobuf \u0000\u00ff'));
      if (d.ok) throw new Error('decoded');
      return d.error;
    },
    code: Code.InvalidArgument,
    reason: ErrorReason.INVALID,
    retryable: false,
    detail: detail(InvalidDetailSchema, {
      fieldViolations: [expect.objectContaining({ field: '', ruleId: 'envelope.decode' })],
    }),
    kafka: 'dead_letter',
  },
  {
    failure: 'an envelope written for protocol 2.0',
    cause: async () => {
      const protocolVersion = create(ProtocolVersionSchema, { major: 2, minor: 0 });
      const d = decodeEnvelope(
        toBinary(SyncEnvelopeSchema, syncEnvelope('t:4', 'k', 'x', 1n, { protocolVersion })),
      );
      if (d.ok) throw new Error('decoded');
      return d.error;
    },
    code: Code.FailedPrecondition,
    reason: ErrorReason.PROTOCOL_VERSION_MISMATCH,
    retryable: false,
    detail: detail(ProtocolVersionMismatchDetailSchema, {
      accepted: [expect.objectContaining({ major: 1, minor: 0 })],
      offered: [expect.objectContaining({ major: 2, minor: 0 })],
    }),
    kafka: 'dead_letter',
  },
];

/** Serialised as the server sends it, parsed as a Connect client parses it. */
function overTheWire(error: ConnectError): ConnectError {
  return errorFromJsonBytes(
    errorToJsonBytes(error, {}),
    undefined,
    new ConnectError('unparseable', Code.Internal),
  );
}

describe('the error contract, failure by failure', () => {
  it.each(rows.map((r) => [r.failure, r] as const))('%s', async (_, row) => {
    const err = await row.cause();
    const seen = overTheWire(toConnectError(err));
    expect(seen.code).toBe(row.code);
    expect(seen.findDetails(ErrorInfoSchema)).toEqual([
      expect.objectContaining({ reason: row.reason, retryable: row.retryable }),
    ]);
    if (row.detail) {
      expect(seen.findDetails(row.detail.schema)).toEqual([expect.objectContaining(row.detail.fields)]);
    } else {
      expect(seen.details).toHaveLength(1); // ErrorInfo alone: the contract lists no detail message
    }
    expect(kafkaDisposition(err)).toBe(row.kafka);
  });

  it('raises every reason of the contract, each with the detail message the contract lists for it', () => {
    const raised = new Set(rows.map((r) => r.reason));
    expect(SYNC_ERROR_REASONS.filter((r) => !raised.has(REASONS[r].proto))).toEqual([]);
    for (const r of SYNC_ERROR_REASONS) {
      const spec = REASONS[r];
      const withDetail = rows.filter((row) => row.reason === spec.proto && row.detail);
      expect(
        withDetail.every((row) => 'detail' in spec && row.detail?.schema === spec.detail),
        r,
      ).toBe(true);
      if ('detail' in spec) expect(withDetail.length, r).toBeGreaterThan(0);
    }
  });
});
