/**
 * The error table's rows that the adapter raises itself, before the module sees anything: the
 * Connect front (authentication, failed-authentication limit, ingest queue, publisher sequencing) and
 * the Kafka decoder (bytes that are no SyncEnvelope, another protocol version).
 */

import type { IncomingMessage } from 'node:http';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { expect } from 'vitest';
import { FailureLimiter } from '../../../adapter/auth/failure-limiter.js';
import { createAuthenticator } from '../../../adapter/auth/setup.js';
import { decodeEnvelope } from '../../../adapter/envelope/decode.js';
import { authGate } from '../../../adapter/http/auth-gate.js';
import { IngestGate } from '../../../adapter/ingest/ingest-limits.js';
import { PublisherSequencer } from '../../../adapter/ingest/publisher-sequencer.js';
import { SyncEnvelopeSchema } from '../../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import {
  ErrorReason,
  InvalidDetailSchema,
  ProtocolVersionMismatchDetailSchema,
  PublisherSequenceDetailSchema,
  ResourceExhaustedDetailSchema,
  UnauthorizedDetailSchema,
} from '../../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { ProtocolVersionSchema } from '../../../proto/gen/spacetime_sync/v1/protocol_pb.js';
import { isSyncError, type SyncError } from '../../../shared/errors/sync-error.js';
import { testAuthConfig } from '../../support/auth.js';
import { syncEnvelope } from '../../support/envelopes.js';
import { detail, type Row } from './error-table.js';

/** The answer to a call past the bound `limit` of `max`. */
const exhausted = (limit: string, max: bigint) => ({
  code: Code.ResourceExhausted,
  reason: ErrorReason.RESOURCE_EXHAUSTED,
  retryable: true,
  detail: detail(ResourceExhaustedDetailSchema, { limit, max }),
  kafka: 'retry' as const,
});

/** What the Kafka decoder refuses `bytes` with. */
async function decodeRefusal(bytes: Uint8Array): Promise<SyncError> {
  const d = decodeEnvelope(bytes);
  if (d.ok) throw new Error('decoded');
  return d.error;
}

export const connectKafkaRows: Row[] = [
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
    ...exhausted('failed authentications', 1n),
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
    ...exhausted('ingest queue', 1n),
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
    failure: 'Kafka bytes that are not a SyncEnvelope',
    cause: () => decodeRefusal(new TextEncoder().encode('not a protobuf \u0000\u00ff')),
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
    cause: () => {
      const protocolVersion = create(ProtocolVersionSchema, { major: 2, minor: 0 });
      return decodeRefusal(
        toBinary(SyncEnvelopeSchema, syncEnvelope('t:4', 'k', 'x', 1n, { protocolVersion })),
      );
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
