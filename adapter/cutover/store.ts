/**
 * The cutover state as SpacetimeDB holds it (module tables `cutover_state`, `cutover_audit`), through
 * the service's own connection: the current stage for routing and gates, the audit trail for
 * operators, and the automatic rollback the service was delegated. An operator's move goes through a
 * short-lived connection made with the operator's own token, so the module sees the operator's
 * identity, never just the service's.
 */
import type { Logger } from 'pino';
import { Identity } from 'spacetimedb';
import { DbConnection } from '../../module/bindings/index.js';
import { type CutoverStage, stageFrom } from '../../module/src/cutover-machine.js';
import { backoffDelay } from '../../shared/backoff.js';
import { SyncError, unavailable } from '../../shared/errors/sync-error.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import { openSdkSocket } from '../spacetime/sdk-socket.js';
import { reducerError } from '../spacetime/writer.js';
import { unauthorizedMove } from './refusals.js';

export interface CutoverSnapshot {
  readonly stage: CutoverStage;
  readonly revision: bigint;
  readonly reason: string;
  readonly actor: string;
  readonly changedBy: string;
  /** When the stage was entered (the soak clock); the store's start for a controller never moved. */
  readonly changedAtMs: number;
  readonly rollbackDelegate: string | undefined;
}

export interface AuditEntry {
  readonly revision: bigint;
  readonly move: string;
  readonly automatic: boolean;
  readonly from: CutoverStage | undefined;
  readonly to: CutoverStage | undefined;
  readonly actor: string;
  readonly sender: string;
  readonly reason: string;
  readonly gateReadings: string;
  readonly atMs: number;
}

export interface MoveRequest {
  readonly move: 'advance' | 'rollback';
  readonly to: CutoverStage;
  readonly expectedRevision: bigint;
  readonly reason: string;
  readonly actor: string;
  readonly gateReadings: string;
  readonly rollbackDelegate: string | undefined;
}

export interface StoreOptions {
  readonly uri: string;
  readonly database: string;
  readonly token?: string;
  readonly logger: Logger;
  readonly callTimeoutMs?: number;
  /** One connection attempt's bound (`SPACETIMEDB_CONNECT_TIMEOUT_MS`, ../spacetime/connect-deadline.ts). */
  readonly connectTimeoutMs?: number;
}

const percentOf = (s: CutoverStage) => (s.kind === 'canary' ? s.percent : 0);

type Life =
  | { readonly t: 'connecting' }
  | { readonly t: 'live'; readonly conn: DbConnection; readonly identity: string }
  | { readonly t: 'closed' };

export class CutoverStore {
  private life: Life = { t: 'connecting' };
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly startedAtMs = Date.now();
  private waiters: (() => void)[] = [];
  private listeners: ((s: CutoverSnapshot) => void)[] = [];

  private constructor(private readonly o: StoreOptions) {}

  static async open(o: StoreOptions, waitMs = 30_000): Promise<CutoverStore> {
    const s = CutoverStore.connecting(o);
    await s.waitLive(waitMs);
    return s;
  }

  /** A store that starts connecting now and keeps retrying; `waitLive` tells when its state loaded. */
  static connecting(o: StoreOptions): CutoverStore {
    ensureWebSocket();
    const s = new CutoverStore(o);
    s.connect();
    return s;
  }

  /** Resolves once the cutover state is loaded; rejects (unavailable) after `ms`. */
  waitLive(ms: number): Promise<void> {
    return this.until(() => this.life.t === 'live', ms, 'the cutover state did not load');
  }

  /** Called with the new snapshot whenever the stored state changes (any writer). */
  onChange(f: (s: CutoverSnapshot) => void): void {
    this.listeners.push(f);
  }

  get identity(): string | undefined {
    return this.life.t === 'live' ? this.life.identity : undefined;
  }

  private connect(): void {
    if (this.life.t === 'closed') return;
    // The writer's kind of socket: confirmed reads, every way it ends (a hung attempt too) one `lost`.
    const conn: DbConnection = openSdkSocket({
      uri: this.o.uri,
      database: this.o.database,
      token: this.o.token,
      compression: 'none',
      connectTimeoutMs: this.o.connectTimeoutMs,
      onOpened: (c, identity) => {
        c.subscriptionBuilder()
          .onApplied(() => {
            if (this.life.t === 'closed') return;
            this.attempt = 0;
            this.life = { t: 'live', conn, identity: identity.toHexString() };
            this.notify();
          })
          .onError((ctx) => this.lost(conn, `subscription failed: ${String(ctx.event)}`))
          .subscribe(['SELECT * FROM cutover_state']);
        // The audit trail is private: readable by the owner. Without it the controller still runs.
        c.subscriptionBuilder()
          .onError((ctx) =>
            this.o.logger.warn({ why: String(ctx.event) }, 'cutover audit trail not readable'),
          )
          .subscribe(['SELECT * FROM cutover_audit']);
      },
      onLost: (why) => this.lost(conn, why),
    });
    conn.db.cutoverState.onInsert(() => this.notify());
    conn.db.cutoverState.onUpdate(() => this.notify());
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
    if (this.life.t !== 'live') return;
    const snap = this.snapshot();
    for (const f of this.listeners) f(snap);
  }

  private lost(conn: DbConnection, why: string): void {
    if (this.life.t === 'closed') return;
    if (this.life.t === 'live' && this.life.conn !== conn) return;
    this.life = { t: 'connecting' };
    if (this.reconnectTimer) return;
    const delay = backoffDelay(this.attempt++, { baseMs: 100, capMs: 5_000 });
    this.o.logger.warn({ why, retryInMs: delay }, 'cutover store: SpacetimeDB connection lost');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private live(): DbConnection {
    if (this.life.t !== 'live')
      throw unavailable('spacetimedb', 'the cutover state is not loaded (SpacetimeDB link down)');
    return this.life.conn;
  }

  /** Resolves when `cond` holds after a state change, or rejects after `ms`. */
  private async until(cond: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw unavailable('spacetimedb', `${what} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  snapshot(): CutoverSnapshot {
    const row = this.live().db.cutoverState.id.find(0);
    if (!row) {
      return {
        stage: { kind: 'legacy_only' },
        revision: 0n,
        reason: '',
        actor: '',
        changedBy: '',
        changedAtMs: this.startedAtMs,
        rollbackDelegate: undefined,
      };
    }
    const stage = stageFrom(row.stage, row.canaryPercent);
    if (!stage) throw new Error(`stored cutover stage ${row.stage}/${row.canaryPercent} is no stage`);
    return {
      stage,
      revision: row.revision,
      reason: row.reason,
      actor: row.actor,
      changedBy: row.changedBy.toHexString(),
      changedAtMs: Number(row.changedAt.microsSinceUnixEpoch / 1000n),
      rollbackDelegate: row.rollbackDelegate?.toHexString(),
    };
  }

  /** The latest audit entries, newest first (empty when the trail is not readable). */
  history(limit: number): AuditEntry[] {
    if (this.life.t !== 'live') return [];
    return [...this.life.conn.db.cutoverAudit.iter()]
      .sort((a, b) => (a.auditId < b.auditId ? 1 : -1))
      .slice(0, limit)
      .map((a) => ({
        revision: a.revision,
        move: a.move,
        automatic: a.automatic,
        from: stageFrom(a.fromStage, a.fromPercent),
        to: stageFrom(a.toStage, a.toPercent),
        actor: a.actor,
        sender: a.sender.toHexString(),
        reason: a.reason,
        gateReadings: a.gateReadings,
        atMs: Number(a.at.microsSinceUnixEpoch / 1000n),
      }));
  }

  /** Waits until this connection has seen `revision` (a move made on another connection). */
  async seen(revision: bigint): Promise<void> {
    await this.until(
      () => this.life.t === 'live' && this.snapshot().revision >= revision,
      this.o.callTimeoutMs ?? 30_000,
      `revision ${revision} did not arrive`,
    );
  }

  /** An operator's move, made as the operator: the module checks that identity is a cutover admin. */
  async moveAs(operatorToken: string, m: MoveRequest): Promise<void> {
    const conn = await this.operatorConnection(operatorToken);
    try {
      await this.timed(
        conn.reducers.moveCutover({
          move: m.move,
          toStage: m.to.kind,
          toPercent: percentOf(m.to),
          expectedRevision: m.expectedRevision,
          reason: m.reason,
          actor: m.actor,
          gateReadings: m.gateReadings,
          rollbackDelegate: m.rollbackDelegate ? Identity.fromString(m.rollbackDelegate) : undefined,
        }),
      );
    } finally {
      conn.disconnect();
    }
    await this.seen(m.expectedRevision + 1n);
  }

  /** The delegated automatic rollback, made as the service. */
  async autoRollback(
    to: CutoverStage,
    expectedRevision: bigint,
    reason: string,
    gateReadings: string,
  ): Promise<void> {
    const conn = this.live();
    await this.timed(
      conn.reducers.autoRollbackCutover({
        toStage: to.kind,
        toPercent: percentOf(to),
        expectedRevision,
        reason,
        gateReadings,
      }),
    );
    await this.seen(expectedRevision + 1n);
  }

  /** The delegate's note that a breach's rollback is held (the stage does not move). */
  async holdAutoRollback(
    to: CutoverStage,
    revision: bigint,
    reason: string,
    gateReadings: string,
  ): Promise<void> {
    const conn = this.live();
    await this.timed(
      conn.reducers.holdAutoRollbackCutover({
        toStage: to.kind,
        toPercent: percentOf(to),
        expectedRevision: revision,
        reason,
        gateReadings,
      }),
    );
  }

  private async timed(call: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        call,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(unavailable('spacetimedb', 'the cutover move did not answer')),
            this.o.callTimeoutMs ?? 30_000,
          );
        }),
      ]);
    } catch (e) {
      throw e instanceof SyncError ? e : reducerError(e);
    } finally {
      clearTimeout(timer);
    }
  }

  private operatorConnection(token: string): Promise<DbConnection> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(unavailable('spacetimedb', 'could not connect with the operator token')),
        this.o.callTimeoutMs ?? 30_000,
      );
      DbConnection.builder()
        .withUri(this.o.uri)
        .withDatabaseName(this.o.database)
        .withToken(token)
        .withCompression('none')
        .onConnect((c) => {
          clearTimeout(timer);
          resolve(c as DbConnection);
        })
        .onConnectError((_ctx, err) => {
          clearTimeout(timer);
          reject(unauthorizedMove(`SpacetimeDB refused the operator token: ${err.message}`));
        })
        .build();
    });
  }

  close(): void {
    const life = this.life;
    this.life = { t: 'closed' };
    clearTimeout(this.reconnectTimer);
    if (life.t === 'live') life.conn.disconnect();
  }
}
