/**
 * Bearer tokens this process has already verified, so a caller that sends the same token with every
 * call pays for the signature check once: ES256 verification was 0.38–0.52 ms of every publish on
 * the shared 2-core machine, 12 % of a fan-out publish → onEvent
 * (bench/results/profile-2026-12-01-fanout10.md). An entry keeps what verification decided (the
 * principal) and is used only while the token is within its `exp` (plus the clock skew, as the
 * verifier allows it) and for at most `ttlMs` after it was verified: a key its issuer retires stops
 * admitting tokens within that bound, as a JWKS cache does. Refusals are never kept; entries are
 * keyed by the token's SHA-256 and bounded in number (the least recently used goes first), an
 * lru-cache with a time to live per entry.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.js';

export interface VerifiedTokensOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  /** ms since the epoch; default Date.now (the clock the verifier checks `exp` against). */
  readonly now?: () => number;
}

/** A minute, like the `max-age` of this service's own JWKS; 4,096 callers' tokens. */
export const DEFAULT_VERIFIED_TOKENS: VerifiedTokensOptions = { maxEntries: 4096, ttlMs: 60_000 };

export class VerifiedTokens {
  private readonly entries: LRUCache<string, Principal>;
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(o: VerifiedTokensOptions) {
    this.now = o.now ?? Date.now;
    this.ttlMs = o.ttlMs;
    this.entries = new LRUCache({
      max: o.maxEntries,
      // Expiry on the verifier's clock (epoch ms, as `exp` is), read at every look-up: the default
      // resolution would reuse a reading for a millisecond.
      perf: { now: () => this.now() },
      ttlResolution: 0,
    });
  }

  /** The principal `token` was verified as, while that still holds. */
  get(token: string): Principal | undefined {
    return this.entries.get(keyOf(token));
  }

  /** Remembers a verified token until `expS` (its `exp`, seconds) + `skewS`, at most `ttlMs`. */
  put(token: string, principal: Principal, expS: number, skewS: number): void {
    const now = this.now();
    const until = Math.min((expS + skewS) * 1000, now + this.ttlMs);
    // The verifier refuses a token from `until` on (exp + skew ≤ now); lru-cache counts an entry
    // stale once more than `ttl` ms passed, so on this whole-ms clock the ttl ends the millisecond
    // before `until`. A ttl of 0 would mean "never stale": an entry with less left is not kept.
    const ttl = Math.ceil(until) - 1 - now;
    if (ttl < 1) return;
    this.entries.set(keyOf(token), principal, { ttl, start: now });
  }
}

const keyOf = (token: string) => createHash('sha256').update(token).digest('base64');
