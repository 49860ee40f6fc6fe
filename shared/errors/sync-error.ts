/**
 * SyncError: every failure spacetime-sync reports, as one type over the closed reason set
 * (./reasons.ts). The reason fixes the Connect code and whether a retry can help; the detail is the
 * contract's typed message for the reason. Boundaries translate from and to it once each:
 * module wire text (./from-reducer.ts), Connect (adapter/errors/to-connect.ts), Kafka disposition
 * (adapter/kafka/disposition.ts), the desktop client's application callbacks.
 */
import { create } from '@bufbuild/protobuf';
import type { Code } from '@connectrpc/connect';
import { UnavailableDetailSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { readReducerFailure } from './from-reducer.js';
import { type DetailByReason, isSyncErrorReason, REASONS, type SyncErrorReason } from './reasons.js';

export class SyncError<R extends SyncErrorReason = SyncErrorReason> extends Error {
  override readonly name = 'SyncError';
  readonly detail: DetailByReason[R] | undefined;

  constructor(
    readonly reason: R,
    message: string,
    options?: { readonly detail?: DetailByReason[R]; readonly cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.detail = options?.detail;
  }

  /** The Connect code the contract fixes for the reason. */
  get code(): Code {
    return REASONS[this.reason].code;
  }

  /** Whether repeating the same call unchanged can succeed later. */
  get retryable(): boolean {
    return REASONS[this.reason].retryable;
  }

  /**
   * Any thrown value as a SyncError: a SyncError (from any copy of this module) as it is, a
   * reducer's typed refusal with its detail, anything else as `unavailable` — the failure was not
   * the request's, so a retry may succeed — with the original as `cause`.
   */
  static from(e: unknown): SyncError {
    if (isSyncError(e)) return e;
    const message = e instanceof Error ? e.message : String(e);
    const refused = readReducerFailure(message);
    if (refused) return new SyncError(refused.reason, refused.text, { detail: refused.detail, cause: e });
    return new SyncError('unavailable', message, { cause: e });
  }
}

/** Shape check rather than `instanceof`, so it holds across duplicated module instances. */
export function isSyncError<R extends SyncErrorReason>(e: unknown, reason?: R): e is SyncError<R> {
  return (
    e instanceof Error &&
    e.name === 'SyncError' &&
    isSyncErrorReason((e as { reason?: unknown }).reason) &&
    (reason === undefined || (e as SyncError).reason === reason)
  );
}

/** A dependency is unreachable: `unavailable` with the UnavailableDetail naming it. */
export function unavailable(
  dependency: 'spacetimedb' | 'kafka',
  message: string,
  cause?: unknown,
): SyncError<'unavailable'> {
  return new SyncError('unavailable', message, {
    detail: create(UnavailableDetailSchema, { dependency }),
    cause,
  });
}
