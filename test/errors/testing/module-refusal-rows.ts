/**
 * The error table's rows that the sync module and its reducers raise: each failure caused for real
 * on the module on devhost, through the adapter's writer or the unmodified SDK, and read where the
 * adapter meets it. `world` is read only when a row runs (module-refusals.test.ts starts devhost
 * first), so the contract check can list these rows without one.
 */

import { Code } from '@connectrpc/connect';
import { expect } from 'vitest';
import { reducerError, type SpacetimeWriter } from '../../../adapter/spacetime/writer.js';
import {
  ConflictDetailSchema,
  ErrorReason,
  InvalidDetailSchema,
  PublisherSequenceDetailSchema,
  SourceRegressionDetailSchema,
  StaleCursorDetailSchema,
  UnauthorizedDetailSchema,
  UnavailableDetailSchema,
} from '../../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { sha256 } from '../../../shared/payload-hash.js';
import type { Connected } from '../../support/devhost-harness.js';
import { eventInput } from '../../support/sync-events.js';
import { detail, type Row, refusal } from './error-table.js';

/**
 * What the rows run against. The rows expect its setup: 't:1' holds key 'first' (body 'original',
 * authority seq 10) at seq 1, and compute assignment 'r1' is open.
 */
export interface ModuleWorld {
  readonly writer: SpacetimeWriter;
  readonly owner: Connected;
  readonly stranger: Connected;
}

const offered = (body: string) => sha256(new TextEncoder().encode(body));

/** The answer to a new key on 't:1' (at authority seq 10) that offers `offeredAuthoritySeq`. */
const sourceRegressionOnT1 = (offeredAuthoritySeq: bigint) => ({
  code: Code.FailedPrecondition,
  reason: ErrorReason.SOURCE_REGRESSION,
  retryable: false,
  detail: detail(SourceRegressionDetailSchema, {
    streamId: 't:1',
    authorityTopic: 'authority',
    lastAuthoritySeq: 10n,
    offeredAuthoritySeq,
    envelopeIndex: 0,
  }),
  kafka: 'dead_letter' as const,
});

export function moduleRefusalRows(world: () => ModuleWorld): Row[] {
  return [
    {
      failure: 'append: a reused key with another payload (second in its batch)',
      cause: () =>
        refusal(
          world().writer.appendBatch([
            eventInput('t:1', 'new'),
            eventInput('t:1', 'first', { body: 'CHANGED' }),
          ]),
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
      cause: () =>
        refusal(world().writer.appendBatch([{ ...eventInput('t:2', 'k'), payloadHash: new Uint8Array(3) }])),
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
      cause: () => refusal(world().writer.appendBatch([eventInput('t:1', 'late', { sourceSeq: 9n })])),
      ...sourceRegressionOnT1(9n),
    },
    {
      failure: 'append: a new key under an authority seq another event holds',
      cause: () =>
        refusal(
          world().writer.appendBatch([eventInput('t:1', 'usurper', { body: 'other', sourceSeq: 10n })]),
        ),
      ...sourceRegressionOnT1(10n),
    },
    {
      failure:
        "append: an authority seq too far past its topic's newest (one envelope must not block a stream)",
      cause: () =>
        refusal(
          world().writer.appendBatch([
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
          world().stranger.conn.reducers.appendSyncEvents({
            events: [eventInput('t:3', 'k')],
            cursor: undefined,
          }),
        ),
      code: Code.PermissionDenied,
      reason: ErrorReason.UNAUTHORIZED,
      retryable: false,
      detail: detail(UnauthorizedDetailSchema, { action: 'append events', resource: '' }),
      kafka: 'dead_letter',
    },
    {
      failure: 'ack_checkpoint naming an old epoch',
      cause: () =>
        refusal(
          world().owner.conn.reducers.ackCheckpoint({
            clientId: 'c',
            streamId: 't:1',
            ackedSeq: 1n,
            epoch: 7n,
          }),
        ),
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
        refusal(
          world().owner.conn.reducers.ackCheckpoint({
            clientId: 'c',
            streamId: 't:1',
            ackedSeq: 5n,
            epoch: 1n,
          }),
        ),
      code: Code.OutOfRange,
      reason: ErrorReason.BEYOND_HEAD,
      retryable: false,
      kafka: 'dead_letter',
    },
    {
      failure: 'ack_checkpoint on a stream never written',
      cause: () =>
        refusal(
          world().owner.conn.reducers.ackCheckpoint({
            clientId: 'c',
            streamId: 'none',
            ackedSeq: 1n,
            epoch: 1n,
          }),
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
          world().owner.conn.reducers.updateComputeAssignment({
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
      failure: "append_publisher_events: a publisher's call ahead of the seq the module applies next",
      cause: () =>
        refusal(
          world().writer.appendPublished([eventInput('t:pub', 'k')], {
            publisherId: 'pub-m',
            publisherSeq: 2n,
          }),
        ),
      code: Code.Aborted,
      reason: ErrorReason.OUT_OF_ORDER_SEQUENCE,
      retryable: true,
      detail: detail(PublisherSequenceDetailSchema, {
        publisherId: 'pub-m',
        expectedSeq: 1n,
        offeredSeq: 2n,
      }),
      kafka: 'retry',
    },
  ];
}
