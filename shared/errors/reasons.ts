/**
 * The closed error vocabulary: the contract's `ErrorReason`s (proto/spacetime_sync/v1/errors.proto),
 * each with the facts the contract fixes for it — its Connect code, whether repeating the call can
 * succeed, and the detail message that travels with it. Every boundary maps from this one table.
 */
import type { DescMessage } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import {
  type ConflictDetail,
  ConflictDetailSchema,
  ErrorReason,
  type InvalidDetail,
  InvalidDetailSchema,
  type ProtocolVersionMismatchDetail,
  ProtocolVersionMismatchDetailSchema,
  type PublisherSequenceDetail,
  PublisherSequenceDetailSchema,
  type ResourceExhaustedDetail,
  ResourceExhaustedDetailSchema,
  type SourceRegressionDetail,
  SourceRegressionDetailSchema,
  type StaleCursorDetail,
  StaleCursorDetailSchema,
  type UnauthorizedDetail,
  UnauthorizedDetailSchema,
  type UnavailableDetail,
  UnavailableDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';

interface ReasonSpec {
  readonly proto: ErrorReason;
  readonly code: Code;
  /** ErrorInfo.retryable: whether repeating the same call unchanged can succeed later. */
  readonly retryable: boolean;
  /** The detail message the contract lists for the reason, if any. */
  readonly detail?: DescMessage;
}

export const REASONS = {
  conflict: {
    proto: ErrorReason.CONFLICT,
    code: Code.AlreadyExists,
    retryable: false,
    detail: ConflictDetailSchema,
  },
  stale_cursor: {
    proto: ErrorReason.STALE_CURSOR,
    code: Code.FailedPrecondition,
    retryable: false,
    detail: StaleCursorDetailSchema,
  },
  unauthorized: {
    proto: ErrorReason.UNAUTHORIZED,
    code: Code.PermissionDenied,
    retryable: false,
    detail: UnauthorizedDetailSchema,
  },
  // No credentials the service accepts: the caller must authenticate (again) before anything else.
  unauthenticated: {
    proto: ErrorReason.UNAUTHENTICATED,
    code: Code.Unauthenticated,
    retryable: false,
    detail: UnauthorizedDetailSchema,
  },
  invalid: {
    proto: ErrorReason.INVALID,
    code: Code.InvalidArgument,
    retryable: false,
    detail: InvalidDetailSchema,
  },
  source_regression: {
    proto: ErrorReason.SOURCE_REGRESSION,
    code: Code.FailedPrecondition,
    retryable: false,
    detail: SourceRegressionDetailSchema,
  },
  unavailable: {
    proto: ErrorReason.UNAVAILABLE,
    code: Code.Unavailable,
    retryable: true,
    detail: UnavailableDetailSchema,
  },
  unknown_stream: { proto: ErrorReason.UNKNOWN_STREAM, code: Code.NotFound, retryable: false },
  beyond_head: { proto: ErrorReason.BEYOND_HEAD, code: Code.OutOfRange, retryable: false },
  revision_mismatch: { proto: ErrorReason.REVISION_MISMATCH, code: Code.Aborted, retryable: true },
  protocol_version_mismatch: {
    proto: ErrorReason.PROTOCOL_VERSION_MISMATCH,
    code: Code.FailedPrecondition,
    retryable: false,
    detail: ProtocolVersionMismatchDetailSchema,
  },
  resource_exhausted: {
    proto: ErrorReason.RESOURCE_EXHAUSTED,
    code: Code.ResourceExhausted,
    retryable: true,
    detail: ResourceExhaustedDetailSchema,
  },
  // A pipelined publish ahead of a predecessor that did not come in time: send the gap, then retry.
  out_of_order_sequence: {
    proto: ErrorReason.OUT_OF_ORDER_SEQUENCE,
    code: Code.Aborted,
    retryable: true,
    detail: PublisherSequenceDetailSchema,
  },
} as const satisfies Record<string, ReasonSpec>;

export type SyncErrorReason = keyof typeof REASONS;

export const SYNC_ERROR_REASONS = Object.keys(REASONS) as SyncErrorReason[];

/** The detail message type each reason carries (`never`: the contract lists none). */
export interface DetailByReason {
  conflict: ConflictDetail;
  stale_cursor: StaleCursorDetail;
  unauthorized: UnauthorizedDetail;
  unauthenticated: UnauthorizedDetail;
  invalid: InvalidDetail;
  source_regression: SourceRegressionDetail;
  unavailable: UnavailableDetail;
  unknown_stream: never;
  beyond_head: never;
  revision_mismatch: never;
  protocol_version_mismatch: ProtocolVersionMismatchDetail;
  resource_exhausted: ResourceExhaustedDetail;
  out_of_order_sequence: PublisherSequenceDetail;
}

export const isSyncErrorReason = (s: unknown): s is SyncErrorReason =>
  typeof s === 'string' && Object.hasOwn(REASONS, s);

/** The reason an `ErrorReason` enum value names; undefined for UNSPECIFIED and unknown numbers. */
export function reasonOfProto(proto: ErrorReason): SyncErrorReason | undefined {
  return SYNC_ERROR_REASONS.find((r) => REASONS[r].proto === proto);
}
