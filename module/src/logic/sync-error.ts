/**
 * Stable, typed reducer errors. A reducer fails with `SenderError("<CODE>: <detail>")`; SpacetimeDB
 * hands the message to the caller verbatim, so the code prefix is the contract the adapter and the
 * client parse (`parseSyncError`) to tell retryable from permanent. Codes reuse Connect's names so the
 * ingest API can map them one-to-one.
 */
export const SYNC_ERROR_CODES = [
  'invalid_argument',
  'already_exists',
  'permission_denied',
  'not_found',
  'failed_precondition',
  'out_of_range',
  'aborted',
] as const;

export type SyncErrorCode = (typeof SYNC_ERROR_CODES)[number];

/** Finer reasons under a code, for metrics and dead-letter headers. */
export type SyncErrorReason =
  | 'conflict'
  | 'stale_cursor'
  | 'unauthorized'
  | 'invalid_envelope'
  | 'unknown_stream'
  | 'beyond_head'
  | 'revision_mismatch';

const REASON_CODE: Record<SyncErrorReason, SyncErrorCode> = {
  conflict: 'already_exists',
  stale_cursor: 'failed_precondition',
  unauthorized: 'permission_denied',
  invalid_envelope: 'invalid_argument',
  unknown_stream: 'not_found',
  beyond_head: 'out_of_range',
  revision_mismatch: 'aborted',
};

/** `"<code>/<reason>: <detail>"` — what a reducer puts in its SenderError. */
export function syncErrorMessage(reason: SyncErrorReason, detail: string): string {
  return `${REASON_CODE[reason]}/${reason}: ${detail}`;
}

export interface ParsedSyncError {
  readonly code: SyncErrorCode;
  readonly reason: SyncErrorReason;
  readonly detail: string;
}

const PATTERN = /^([a-z_]+)\/([a-z_]+): ([\s\S]*)$/;

/** Inverse of syncErrorMessage; undefined for anything the module did not raise itself. */
export function parseSyncError(message: string): ParsedSyncError | undefined {
  const m = PATTERN.exec(message.replace(/^SenderError: /, ''));
  if (!m) return undefined;
  const [, code, reason, detail] = m;
  if (!(reason! in REASON_CODE) || REASON_CODE[reason as SyncErrorReason] !== code) return undefined;
  return { code: code as SyncErrorCode, reason: reason as SyncErrorReason, detail: detail! };
}
