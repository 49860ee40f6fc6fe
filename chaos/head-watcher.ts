/**
 * Watches every stream's durable head through an SDK subscription to `sync_stream` (the owner's
 * view), reconnecting whenever SpacetimeDB goes away (a devhost killed and restarted). The chaos
 * tools wait on it: "the group has stored N events", "the marker is stored".
 */
import { DbConnection } from '../module/bindings/index.js';
import { ensureWebSocket } from '../shared/node-websocket.js';
import type { Target } from './invariants/collect.js';

export class HeadWatcher {
  readonly heads = new Map<string, bigint>();
  private conn: DbConnection | undefined;
  private stopped = false;
  /** Which connection attempt is current: a failure of an older one starts nothing new. */
  private attempt = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly target: Target,
    private readonly ignore: ReadonlySet<string> = new Set(),
  ) {
    ensureWebSocket();
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const attempt = ++this.attempt;
    const retry = () => {
      if (attempt !== this.attempt || this.stopped) return;
      this.attempt++;
      setTimeout(() => this.connect(), 300);
    };
    const set = (streamId: string, head: bigint) => {
      if (this.ignore.has(streamId)) return;
      this.heads.set(streamId, head);
      for (const l of [...this.listeners]) l();
    };
    this.conn = DbConnection.builder()
      .withUri(this.target.uri)
      .withDatabaseName(this.target.database)
      .withToken(this.target.token)
      .withCompression('none')
      .onConnect((c) => {
        c.db.syncStream.onInsert((_ctx, row) => set(row.streamId, row.headSeq));
        c.db.syncStream.onUpdate((_ctx, _old, row) => set(row.streamId, row.headSeq));
        c.subscriptionBuilder().subscribe('SELECT * FROM sync_stream');
      })
      .onConnectError(retry)
      .onDisconnect(retry)
      .build();
  }

  /** Sum of the heads: events stored when every stream starts at seq 1. */
  total(): number {
    let n = 0;
    for (const h of this.heads.values()) n += Number(h);
    return n;
  }

  /** Resolves once `predicate` holds; rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`${what} not reached within ${timeoutMs} ms (stored ${this.total()})`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  stop(): void {
    this.stopped = true;
    this.conn?.disconnect();
  }
}
