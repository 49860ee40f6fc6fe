/**
 * Why an envelope was not appended, as a stable code. Permanent codes go to the dead-letter topic
 * (retrying cannot help); retryable ones are retried with backoff without skipping ahead.
 */
export type AdapterErrorCode =
  | 'malformed' // bytes are not a SyncEnvelope
  | 'invalid' // a field breaks a contract rule
  | 'hash_mismatch' // payload_hash is not the payload's SHA-256
  | 'conflict' // idempotency key reused with a different payload
  | 'unauthorized' // the adapter's identity may not write
  | 'unavailable'; // SpacetimeDB unreachable, timed out, or failed internally

const PERMANENT = new Set<AdapterErrorCode>([
  'malformed',
  'invalid',
  'hash_mismatch',
  'conflict',
  'unauthorized',
]);

export class AdapterError extends Error {
  override readonly name = 'AdapterError';
  constructor(
    readonly code: AdapterErrorCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
  get permanent(): boolean {
    return PERMANENT.has(this.code);
  }
}
