/**
 * Bearer tokens this process has already verified, so a caller that sends the same token with every
 * call pays for the signature check once: ES256 verification was 0.38–0.52 ms of every publish on
 * the shared 2-core machine, 12 % of a fan-out publish → onEvent
 * (bench/results/profile-2026-12-01-fanout10.md). An entry keeps what verification decided (the
 * principal) and is used only while the token is within its `exp` (plus the clock skew, as the
 * verifier allows it) and for at most `ttlMs` after it was verified: a key its issuer retires stops
 * admitting tokens within that bound, as a JWKS cache does. Refusals are never kept; entries are
 * keyed by the token's SHA-256 and bounded in number (the least recently used goes first).
 */
import { createHash } from 'node:crypto';
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
  private readonly entries = new Map<string, { readonly principal: Principal; readonly until: number }>();
  private readonly now: () => number;

  constructor(private readonly o: VerifiedTokensOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The principal `token` was verified as, while that still holds. */
  get(token: string): Principal | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (this.now() >= entry.until) return undefined;
    this.entries.set(key, entry); // most recently used last
    return entry.principal;
  }

  /** Remembers a verified token until `expS` (its `exp`, seconds) + `skewS`, at most `ttlMs`. */
  put(token: string, principal: Principal, expS: number, skewS: number): void {
    const now = this.now();
    const until = Math.min((expS + skewS) * 1000, now + this.o.ttlMs);
    if (!(until > now)) return;
    const key = keyOf(token);
    this.entries.delete(key);
    this.entries.set(key, { principal, until });
    while (this.entries.size > this.o.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

const keyOf = (token: string) => createHash('sha256').update(token).digest('base64');
