/**
 * Module wire text → the contract: a reducer's typed refusal (module/src/errors.ts) read back as its
 * reason, sentence and detail message. The module cannot build protobuf messages, so it sends the
 * detail's fields as text and they become the message here — the only place that knows both forms.
 */
import { create } from '@bufbuild/protobuf';
import { type ModuleErrorReason, parseModuleError, type WireValue } from '../../module/src/errors.js';
import { HashAlgorithm } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import {
  ConflictDetailSchema,
  InvalidDetailSchema,
  PublisherSequenceDetailSchema,
  SourceRegressionDetailSchema,
  StaleCursorDetailSchema,
  UnauthorizedDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import type { DetailByReason } from './reasons.js';

/** (`DetailByReason[R]` only compiles while every module reason is one of the contract's.) */
export type ReducerFailure = {
  [R in ModuleErrorReason]: {
    readonly reason: R;
    readonly text: string;
    readonly detail: DetailByReason[R] | undefined;
  };
}[ModuleErrorReason];

type Fields = Readonly<Record<string, WireValue>>;
const str = (f: Fields, k: string): string => String(f[k] ?? '');
const u64 = (f: Fields, k: string): bigint => (typeof f[k] === 'string' ? BigInt(f[k] as string) : 0n);
const index = (f: Fields): number | undefined =>
  typeof f['envelope_index'] === 'number' ? f['envelope_index'] : undefined;
const bytes = (f: Fields, k: string): Uint8Array => {
  const hex = typeof f[k] === 'string' ? (f[k] as string) : '';
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
};

/** The refusal a reducer raised, or undefined when the text is not the module's (a crash, a timeout…). */
export function readReducerFailure(message: string): ReducerFailure | undefined {
  const parsed = parseModuleError(message);
  if (!parsed) return undefined;
  const { text, fields: f } = parsed;
  switch (parsed.reason) {
    case 'conflict': {
      const offered = bytes(f, 'offered_payload_hash');
      const detail = create(ConflictDetailSchema, {
        streamId: str(f, 'stream_id'),
        idempotencyKey: str(f, 'idempotency_key'),
        existingSeq: u64(f, 'existing_seq'),
        existingPayloadHash: bytes(f, 'existing_payload_hash'),
        offeredPayloadHash: offered,
        hashAlgorithm: offered.length > 0 ? HashAlgorithm.SHA256 : HashAlgorithm.UNSPECIFIED,
        envelopeIndex: index(f),
      });
      return { reason: 'conflict', text, detail };
    }
    case 'stale_cursor':
      return {
        reason: 'stale_cursor',
        text,
        detail: create(StaleCursorDetailSchema, {
          streamId: str(f, 'stream_id'),
          requestedWatermark: u64(f, 'requested_watermark'),
          lowWatermark: u64(f, 'low_watermark'),
          epoch: u64(f, 'epoch'),
          requestedEpoch: u64(f, 'requested_epoch'),
        }),
      };
    case 'unauthorized':
      return {
        reason: 'unauthorized',
        text,
        detail: create(UnauthorizedDetailSchema, { action: str(f, 'action'), resource: str(f, 'resource') }),
      };
    case 'invalid': {
      const i = index(f);
      const field = i === undefined ? str(f, 'field') : `envelopes[${i}].${str(f, 'field')}`;
      const violation = { field, ruleId: str(f, 'rule_id'), description: text };
      return {
        reason: 'invalid',
        text,
        detail: create(InvalidDetailSchema, { fieldViolations: [violation] }),
      };
    }
    case 'source_regression':
      return {
        reason: 'source_regression',
        text,
        detail: create(SourceRegressionDetailSchema, {
          streamId: str(f, 'stream_id'),
          authorityTopic: str(f, 'authority_topic'),
          lastAuthoritySeq: u64(f, 'last_authority_seq'),
          offeredAuthoritySeq: u64(f, 'offered_authority_seq'),
          envelopeIndex: index(f),
        }),
      };
    case 'out_of_order_sequence':
      return {
        reason: 'out_of_order_sequence',
        text,
        detail: create(PublisherSequenceDetailSchema, {
          publisherId: str(f, 'publisher_id'),
          expectedSeq: u64(f, 'expected_seq'),
          offeredSeq: u64(f, 'offered_seq'),
        }),
      };
    // The contract lists no detail message for these; the sentence names what was missing or stale.
    case 'unknown_stream':
    case 'beyond_head':
    case 'revision_mismatch':
      return { reason: parsed.reason, text, detail: undefined };
  }
}
