/**
 * Tokens this server has already verified, so a client that reconnects with the same token pays
 * for the signature check once: ES256 verification was about a tenth of each connection's host
 * work (bench/results/profile-2026-12-02-recover.md). SpacetimeDB verifies every connection's token
 * and caches only the issuers' key sets; this cache keeps that meaning:
 * - an entry holds what verification decided and is used only while the token is within its `exp`
 *   (plus the leeway the verifier allows) and for at most `ttlMs` after it was verified;
 * - a third-party token's entry is also tied to the issuer key set it was verified with
 *   (`keySet`, checked by the caller): once that set is refetched or stale, the token is verified
 *   again, so a key the issuer retired stops admitting tokens exactly when it did without the cache;
 * - refusals are never kept; entries are keyed by the token's SHA-256 and bounded in number (the
 *   least recently used goes first).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { VerifiedToken } from './tokens.js';

export interface VerifiedTokenCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  /** ms since the epoch; default Date.now (the clock `exp` is checked against). */
  readonly now?: () => number;
}

/** A minute, 4,096 tokens (the adapter's own cache of verified callers has the same bounds). */
export const DEFAULT_VERIFIED_TOKEN_CACHE: VerifiedTokenCacheOptions = { maxEntries: 4096, ttlMs: 60_000 };

/** The issuer key set a third-party token was verified with: its issuer and when it was fetched. */
export interface KeySetStamp {
  readonly issuer: string;
  readonly fetchedAt: number;
}

interface Entry {
  readonly verified: VerifiedToken;
  readonly until: number;
  readonly keySet?: KeySetStamp;
}

export class VerifiedTokenCache {
  private readonly entries: LRUCache<string, Entry>;
  private readonly now: () => number;

  constructor(private readonly o: VerifiedTokenCacheOptions = DEFAULT_VERIFIED_TOKEN_CACHE) {
    this.entries = new LRUCache({ max: o.maxEntries });
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** What `token` was verified as, while that still holds by time; `keySet` is for the caller to check. */
  get(token: string): { readonly verified: VerifiedToken; readonly keySet?: KeySetStamp } | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.now() >= entry.until) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Remembers a verified token until its `exp` + `leewayS` (seconds), at most `ttlMs`. */
  put(token: string, verified: VerifiedToken, leewayS: number, keySet?: KeySetStamp): void {
    const now = this.now();
    const exp = verified.claims.exp;
    const until = Math.min(
      exp === undefined ? Number.POSITIVE_INFINITY : (exp + leewayS) * 1000,
      now + this.o.ttlMs,
    );
    if (!(until > now)) return;
    this.entries.set(keyOf(token), keySet === undefined ? { verified, until } : { verified, until, keySet });
  }

  /** Forgets a token (its re-verification failed: a refusal replaces what was known). */
  forget(token: string): void {
    this.entries.delete(keyOf(token));
  }
}

const keyOf = (token: string): string => createHash('sha256').update(token).digest('base64');
