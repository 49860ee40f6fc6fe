/**
 * SyncError → ConnectError, the adapter's one translation for every Connect service: the code the
 * contract fixes for the reason, an ErrorInfo, and the reason's typed detail message when it has one.
 */
import { create } from '@bufbuild/protobuf';
import { ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { REASONS } from '../../shared/errors/reasons.js';
import type { SyncError } from '../../shared/errors/sync-error.js';

export function toConnectError(err: SyncError, prefix = ''): ConnectError {
  const spec = REASONS[err.reason];
  const details: ConstructorParameters<typeof ConnectError>[3] = [
    {
      desc: ErrorInfoSchema,
      value: create(ErrorInfoSchema, { reason: spec.proto, retryable: err.retryable }),
    },
  ];
  if (err.detail !== undefined && 'detail' in spec) details.push({ desc: spec.detail, value: err.detail });
  return new ConnectError(`${prefix}${err.message}`, err.code, undefined, details, err);
}
