/**
 * The ingest API's bounds, so one publisher cannot stall or exhaust the shared process (security audit
 * finding 5): the request body (compressed and decompressed), the nesting depth of a JSON body
 * (checked before it is parsed), and how many publish calls may wait for SpacetimeDB at once — past
 * that a caller gets `resource_exhausted` with a retry hint instead of an unbounded queue.
 */
import { create } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { ResourceExhaustedDetailSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { SyncError } from '../../shared/errors/sync-error.js';

export interface IngestLimits {
  /** Largest request body, compressed as sent and again once decompressed. */
  readonly maxBodyBytes: number;
  /** Publish calls in flight (waiting for or writing to SpacetimeDB) before new ones are refused. */
  readonly maxQueued: number;
  /** Deepest nesting of arrays/objects a JSON body may have. */
  readonly jsonMaxDepth: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  // Below devhost's and SpacetimeDB's client frame limits, so an accepted batch also fits one reducer call.
  maxBodyBytes: 16 * 1024 * 1024,
  maxQueued: 64,
  // A PublishRequest nests 4 deep (request, envelope, source, kafka); the rest is slack.
  jsonMaxDepth: 32,
};

/** Whether `bytes` (UTF-8 JSON text) nests arrays/objects deeper than `max`; strings are skipped. */
export function jsonDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

/** Counts publish calls in flight; refuses past `max` with `resource_exhausted` and a retry hint. */
export class IngestGate {
  private inFlight = 0;
  constructor(
    private readonly max: number,
    private readonly retryAfterMs = 1000,
  ) {}

  get depth(): number {
    return this.inFlight;
  }

  /** A release function, or the refusal when the queue is full. */
  enter(): (() => void) | SyncError<'resource_exhausted'> {
    if (this.inFlight >= this.max) {
      return new SyncError(
        'resource_exhausted',
        `the ingest queue is full (${this.max} publish calls in flight); retry in ${this.retryAfterMs} ms`,
        {
          detail: create(ResourceExhaustedDetailSchema, {
            limit: 'ingest queue',
            max: BigInt(this.max),
            retryAfter: durationFromMs(this.retryAfterMs),
          }),
        },
      );
    }
    this.inFlight++;
    let released = false;
    return () => {
      if (!released) this.inFlight--;
      released = true;
    };
  }
}
