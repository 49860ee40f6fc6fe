/**
 * Host error numbers and their messages, as SpacetimeDB's `crates/primitives/src/errno.rs` defines them
 * (host spec §2.1). The module turns a number into its own error class via `__get_error_constructor__`,
 * so the number is what must match; the message is what `strerror` would say.
 */
export const Errno = {
  HOST_CALL_FAILURE: 1,
  NOT_IN_TRANSACTION: 2,
  BSATN_DECODE_ERROR: 3,
  NO_SUCH_TABLE: 4,
  NO_SUCH_INDEX: 5,
  NO_SUCH_ITER: 6,
  NO_SUCH_CONSOLE_TIMER: 7,
  WRONG_INDEX_ALGO: 10,
  UNIQUE_ALREADY_EXISTS: 12,
  SCHEDULE_AT_DELAY_TOO_LONG: 13,
  INDEX_NOT_UNIQUE: 14,
  NO_SUCH_ROW: 15,
  AUTO_INC_OVERFLOW: 16,
  WOULD_BLOCK_TRANSACTION: 17,
  TRANSACTION_NOT_ANONYMOUS: 18,
  HTTP_ERROR: 21,
} as const;

export type ErrnoCode = (typeof Errno)[keyof typeof Errno];

const MESSAGES: Record<ErrnoCode, string> = {
  1: 'ABI called by host returned an error',
  2: 'ABI call can only be made while in a transaction',
  3: "Couldn't decode the BSATN to the expected type",
  4: 'No such table',
  5: 'No such index',
  6: 'The provided row iterator is not valid',
  7: 'The provided console timer does not exist',
  10: 'The Index does not support range scans',
  12: 'Value with given unique identifier already exists',
  13: 'Specified delay in scheduling row was too long',
  14: 'The index was not unique',
  15: 'The row was not found, e.g., in an update call',
  16: 'The auto-increment sequence overflowed',
  17: 'Attempted async or blocking op while holding open a transaction',
  18: 'Not in an anonymous transaction. Called by a reducer?',
  21: 'HTTP request failed',
};

/** A datastore/ABI failure that the module sees as `errors.<Name>` for its errno. */
export class HostError extends Error {
  override readonly name = 'HostError';
  constructor(
    readonly errno: ErrnoCode,
    /** Extra context for devhost's own logs; the module only sees `strerror(errno)`. */
    readonly detail?: string,
  ) {
    super(detail ? `${MESSAGES[errno]}: ${detail}` : MESSAGES[errno]);
  }
  /** What the real host passes to the module's error constructor. */
  get strerror(): string {
    return MESSAGES[this.errno];
  }
}
