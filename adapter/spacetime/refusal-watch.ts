/**
 * Tells a start-up connection that SpacetimeDB refused for good (./connect-refusal.ts) from an outage.
 * Until the writer has once been connected, every connect failure is read: a refusal the SDK names in
 * its text ends the start at once; a bare failure (Node 22+'s own WebSocket says only "WebSocket error")
 * is diagnosed by asking the host over plain HTTP (shared/connect-diagnosis.ts, as the client library
 * does), one diagnosis at a time. Once connected, every failure is an outage: a token revoked later shows
 * in the logs and /readyz while the writer keeps retrying.
 */
import { diagnoseConnectFailure } from '../../shared/connect-diagnosis.js';
import { type RefusalKind, refusalKind, SpacetimeRefusedError } from './connect-refusal.js';

/** The diagnosis's permanent answers that end a start (others are retried). */
const PERMANENT_KINDS = { unauthenticated: 'bad_credentials', unknown_database: 'missing_database' } as const;

export interface RefusalTarget {
  readonly uri: string;
  readonly database: string;
  readonly token?: string | undefined;
}

export class RefusalWatch {
  private everConnected = false;
  private diagnosing = false;
  private refusedWith: SpacetimeRefusedError | undefined;

  constructor(
    private readonly target: RefusalTarget,
    /** Called once per refusal found, with the error that ends the start. */
    private readonly onRefused: (e: SpacetimeRefusedError) => void,
  ) {}

  /** The permanent refusal of the first connection, until a connection succeeds. */
  get refused(): SpacetimeRefusedError | undefined {
    return this.refusedWith;
  }

  /** A connection succeeded: from now on every failure is an outage. */
  connected(): void {
    this.everConnected = true;
    this.refusedWith = undefined;
  }

  /** A connect attempt failed with `message`. */
  note(message: string): void {
    if (this.everConnected) return;
    const kind = refusalKind(message);
    if (kind) {
      this.refuse(kind, message);
      return;
    }
    if (this.diagnosing) return;
    this.diagnosing = true;
    const { uri, database, token } = this.target;
    diagnoseConnectFailure({ uri, database, token }).then(
      (d) => {
        this.diagnosing = false;
        // Re-checked after the await: connected or refused meanwhile, nothing to add.
        if (this.everConnected || this.refusedWith || d.kind !== 'permanent') return;
        const k = d.code === 'not_spacetimedb' ? undefined : PERMANENT_KINDS[d.code];
        if (k) this.refuse(k, d.message);
      },
      () => {
        this.diagnosing = false;
      },
    );
  }

  private refuse(kind: RefusalKind, why: string): void {
    this.refusedWith = new SpacetimeRefusedError(kind, this.target.uri, this.target.database, why);
    this.onRefused(this.refusedWith);
  }
}
