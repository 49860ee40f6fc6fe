/**
 * Why a query was refused. Anything devhost can't evaluate exactly is refused with `unsupported`
 * rather than answered approximately: a subscription must never silently return the wrong rows.
 */
export type SqlErrorKind = 'parse' | 'unsupported' | 'unresolved' | 'type';

export class SqlError extends Error {
  override readonly name = 'SqlError';
  constructor(
    readonly kind: SqlErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** A construct SpacetimeDB refuses in subscription SQL. */
export function unsupported(message: string): SqlError {
  return new SqlError('unsupported', message);
}
