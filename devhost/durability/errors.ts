/**
 * One error class with a closed set of codes, so the host can tell a schema mismatch (user must pick
 * another data dir) from log damage (needs a human) from misuse (a bug in the caller).
 */
export type DurabilityErrorCode =
  /** The data directory was written by a module with another schema hash. */
  | 'schema-mismatch'
  /** Another open handle (this process or a live one) owns the directory. */
  | 'locked'
  /** Committed transactions are missing from the log (not a torn tail). */
  | 'log-gap'
  /** A record passed its checksum but cannot be decoded, or files contradict each other. */
  | 'corrupt'
  /** `append` was given an offset other than the next one. */
  | 'offset-out-of-order'
  /** Bad argument (snapshot ahead of the log, negative identity, ...). */
  | 'invalid-argument'
  /** Writing or fsyncing failed; nothing appended after this can become durable. */
  | 'io'
  /** The log ran out of space: what was not logged is rolled back, appends wait for space. */
  | 'no-space'
  /** Used after `close()`, or waited for an offset that was never appended before close. */
  | 'closed';

export class DurabilityError extends Error {
  override readonly name = 'DurabilityError';
  constructor(
    readonly code: DurabilityErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`[${code}] ${message}`, options);
  }
}

/** Shape check rather than `instanceof`, so it holds across duplicated module instances. */
export function isDurabilityError(e: unknown, code?: DurabilityErrorCode): e is DurabilityError {
  return (
    e instanceof Error &&
    e.name === 'DurabilityError' &&
    typeof (e as { code?: unknown }).code === 'string' &&
    (code === undefined || (e as DurabilityError).code === code)
  );
}
