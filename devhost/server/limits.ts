/**
 * What one client may cost the host. Anyone can mint an identity, so every resource a socket can make
 * the shared event loop hold or do is bounded; past a bound the client gets an error it can read (an
 * HTTP status with text, a SubscriptionError, a failed ReducerResult, or a close reason) and the
 * process carries on. Defaults suit a dev host serving a few hundred clients.
 */

export interface DevhostLimits {
  /** Bytes written to a socket but not yet taken by the client; past it the client is dropped (it stopped reading). */
  readonly outboundBytes: number;
  /** Open websockets, all databases together. */
  readonly connections: number;
  /** Open websockets of one identity. */
  readonly connectionsPerIdentity: number;
  /** Length of one subscription or one-off query, in UTF-8 bytes. */
  readonly queryBytes: number;
  /** Comparisons in one query's WHERE clause (each one is evaluated per candidate row). */
  readonly queryTerms: number;
  /** Queries registered on one connection, all its query sets together. */
  readonly queriesPerConnection: number;
  /** BSATN bytes of one reducer call's arguments. */
  readonly reducerArgsBytes: number;
}

export const DEFAULT_LIMITS: DevhostLimits = {
  outboundBytes: 64 * 1024 * 1024,
  connections: 2048,
  connectionsPerIdentity: 64,
  queryBytes: 8 * 1024,
  queryTerms: 64,
  queriesPerConnection: 256,
  // Below the 32 MiB frame limit, above what the adapter sends in one batch.
  reducerArgsBytes: 16 * 1024 * 1024,
};

export function resolveLimits(given: Partial<DevhostLimits> | undefined): DevhostLimits {
  const limits = { ...DEFAULT_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits))
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new RangeError(`devhost limit ${name} must be a positive integer, got ${String(value)}`);
  return limits;
}

/** Open sockets, in total and per identity; `open` answers why a new one is refused. */
export class ConnectionCounter {
  private total = 0;
  private readonly perIdentity = new Map<bigint, number>();

  constructor(private readonly limits: Pick<DevhostLimits, 'connections' | 'connectionsPerIdentity'>) {}

  /** Counts a new socket of `identity`, or returns the HTTP refusal when a limit is reached. */
  open(identity: bigint): { status: 429 | 503; text: string } | undefined {
    if (this.total >= this.limits.connections)
      return {
        status: 503,
        text: `too many connections: the server holds its maximum of ${this.limits.connections}`,
      };
    const mine = this.perIdentity.get(identity) ?? 0;
    if (mine >= this.limits.connectionsPerIdentity)
      return {
        status: 429,
        text: `too many connections for this identity: at most ${this.limits.connectionsPerIdentity}`,
      };
    this.total++;
    this.perIdentity.set(identity, mine + 1);
    return undefined;
  }

  close(identity: bigint): void {
    const mine = this.perIdentity.get(identity) ?? 0;
    if (mine <= 0) return;
    this.total--;
    if (mine === 1) this.perIdentity.delete(identity);
    else this.perIdentity.set(identity, mine - 1);
  }
}
