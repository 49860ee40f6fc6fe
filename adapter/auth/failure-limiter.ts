/**
 * Failed authentications per peer, so one address cannot guess tokens or burn the verifier's CPU
 * without bound (security audit: a bearer token could be brute-forced at line rate). Each peer has a
 * token bucket of `burst` failures that refills at `burst` per `windowMs`; a peer whose bucket is
 * empty is refused before its token is even verified — with `resource_exhausted`, retryable, and the
 * time until its next attempt — until the bucket refills. Successes neither spend nor refill it, so
 * interleaving a valid token does not reset a guessing run.
 *
 * Memory is bounded: at most `maxPeers` buckets (an lru-cache), least recently failed first out: a
 * check only peeks, so a peer that keeps asking but stopped failing does not stay. A bucket that has
 * refilled is the same as none, so losing it changes nothing; only an attacker holding more than
 * `maxPeers` addresses at once can make the limiter forget one (and is then limited per address anyway).
 */
import { create } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { LRUCache } from 'lru-cache';
import { ResourceExhaustedDetailSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { SyncError } from '../../shared/errors/sync-error.js';

export interface FailureLimits {
  /** Failed authentications a peer may have in a row before it is refused. */
  readonly burst: number;
  /** Time for an empty bucket to refill completely. */
  readonly windowMs: number;
  /** Peers tracked at once. */
  readonly maxPeers: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = { burst: 20, windowMs: 60_000, maxPeers: 10_000 };

interface Bucket {
  tokens: number;
  at: number;
}

export class FailureLimiter {
  /** Used = failed: a failure sets its peer's bucket, everything else peeks. */
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(
    private readonly limits: FailureLimits = DEFAULT_FAILURE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = new LRUCache({ max: limits.maxPeers });
  }

  /** Peers tracked right now (bounded by `maxPeers`). */
  get size(): number {
    return this.buckets.size;
  }

  /** The refusal for a peer whose failures are used up, or undefined when it may try. */
  check(peer: string, action: string): SyncError<'resource_exhausted'> | undefined {
    const b = this.refilled(peer);
    if (!b || b.tokens >= 1) return undefined;
    const waitMs = Math.ceil(((1 - b.tokens) * this.limits.windowMs) / this.limits.burst);
    return new SyncError(
      'resource_exhausted',
      `${action}: too many failed authentications from this address; retry in ${waitMs} ms`,
      {
        detail: create(ResourceExhaustedDetailSchema, {
          limit: 'failed authentications',
          max: BigInt(this.limits.burst),
          retryAfter: durationFromMs(waitMs),
        }),
      },
    );
  }

  /** Records one failed authentication of `peer`. */
  failed(peer: string): void {
    const b = this.refilled(peer) ?? { tokens: this.limits.burst, at: this.now() };
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.set(peer, b);
  }

  /** The peer's bucket brought up to now; a full one is dropped (it is the same as none). */
  private refilled(peer: string): Bucket | undefined {
    const b = this.buckets.peek(peer);
    if (!b) return undefined;
    const t = this.now();
    b.tokens = Math.min(
      this.limits.burst,
      b.tokens + ((t - b.at) * this.limits.burst) / this.limits.windowMs,
    );
    b.at = t;
    if (b.tokens >= this.limits.burst) {
      this.buckets.delete(peer);
      return undefined;
    }
    return b;
  }
}
