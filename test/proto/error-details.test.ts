/**
 * The typed error details travel inside Connect errors: what a server attaches survives the Connect
 * wire format (JSON error body, details as type URL + protobuf bytes) and a client finds it by schema.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { errorFromJsonBytes, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import { describe, expect, it } from 'vitest';
import { HashAlgorithm } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import {
  ConflictDetailSchema,
  ErrorInfoSchema,
  ErrorReason,
  InvalidDetailSchema,
  ProtocolVersionMismatchDetailSchema,
  StaleCursorDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { sha256 } from '../../shared/payload-hash.js';

/** Serialises the error as a Connect server would and parses it back as a Connect client would. */
function overTheWire(error: ConnectError): ConnectError {
  return errorFromJsonBytes(
    errorToJsonBytes(error, {}),
    undefined,
    new ConnectError('unparseable', Code.Internal),
  );
}

describe('error details over the Connect wire format', () => {
  it('a conflict arrives as ALREADY_EXISTS with its reason and both hashes', () => {
    const existing = sha256(new TextEncoder().encode('first'));
    const offered = sha256(new TextEncoder().encode('second'));
    const sent = new ConnectError(
      'idempotency key reused with a different payload',
      Code.AlreadyExists,
      undefined,
      [
        { desc: ErrorInfoSchema, value: { reason: ErrorReason.CONFLICT, retryable: false } },
        {
          desc: ConflictDetailSchema,
          value: {
            streamId: 'workspace/42',
            idempotencyKey: 'evt-1',
            existingSeq: 17n,
            existingPayloadHash: existing,
            offeredPayloadHash: offered,
            hashAlgorithm: HashAlgorithm.SHA256,
            envelopeIndex: 2,
          },
        },
      ],
    );
    const received = overTheWire(sent);
    expect(received.code).toBe(Code.AlreadyExists);
    expect(received.findDetails(ErrorInfoSchema)).toMatchObject([
      { reason: ErrorReason.CONFLICT, retryable: false },
    ]);
    const [conflict] = received.findDetails(ConflictDetailSchema);
    expect(conflict).toMatchObject({ existingSeq: 17n, envelopeIndex: 2 });
    expect(conflict?.existingPayloadHash).toEqual(existing);
    expect(conflict?.offeredPayloadHash).toEqual(offered);
    expect(received.findDetails(StaleCursorDetailSchema)).toEqual([]);
  });

  it('a stale cursor and a version mismatch carry what the client needs to recover', () => {
    const stale = overTheWire(
      new ConnectError('cursor below low watermark', Code.FailedPrecondition, undefined, [
        {
          desc: StaleCursorDetailSchema,
          value: { streamId: 's', requestedWatermark: 3n, lowWatermark: 10n, epoch: 2n, requestedEpoch: 2n },
        },
      ]),
    );
    expect(stale.findDetails(StaleCursorDetailSchema)).toMatchObject([{ lowWatermark: 10n, epoch: 2n }]);

    const mismatch = overTheWire(
      new ConnectError('no shared protocol version', Code.FailedPrecondition, undefined, [
        {
          desc: ProtocolVersionMismatchDetailSchema,
          value: { accepted: [{ major: 1, minor: 4 }], offered: [{ major: 2, minor: 0 }] },
        },
      ]),
    );
    expect(mismatch.findDetails(ProtocolVersionMismatchDetailSchema)).toMatchObject([
      { accepted: [{ major: 1, minor: 4 }], offered: [{ major: 2, minor: 0 }] },
    ]);
  });

  it('an invalid request lists every field violation in order', () => {
    const received = overTheWire(
      new ConnectError('invalid envelopes', Code.InvalidArgument, undefined, [
        {
          desc: InvalidDetailSchema,
          value: {
            fieldViolations: [
              { field: 'envelopes[0].stream_id', ruleId: 'string.min_len', description: 'must not be empty' },
              { field: 'envelopes[3].payload_hash', ruleId: 'payload_hash.mismatch', description: 'differs' },
            ],
          },
        },
      ]),
    );
    const [invalid] = received.findDetails(InvalidDetailSchema);
    expect(invalid?.fieldViolations.map((v) => v.field)).toEqual([
      'envelopes[0].stream_id',
      'envelopes[3].payload_hash',
    ]);
  });
});
