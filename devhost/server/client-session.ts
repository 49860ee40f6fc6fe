/**
 * One accepted websocket client of one database: decodes its frames and answers each message the way
 * SpacetimeDB's v2 handlers do (`core/src/client/message_handlers_v2.rs` and the subscription actor),
 * in arrival order, through one ordered outbound queue.
 */
import type { CommittedTx, HostedDatabase } from '../contract.js';
import type { ClientMessage, QuerySetUpdate } from '../stdb-internal/client-api.js';
import type { TxEncodeMemo } from './broadcast-memo.js';
import type { DatabaseHub, HubClient } from './database-hub.js';
import { ClientFrameError, type Compression, decodeClientFrame, type WsVersion } from './framing.js';
import { identityToHex } from './identity.js';
import type { DevhostLimits } from './limits.js';
import type { DevhostLogger } from './logger.js';
import { OutboundQueue } from './outbound-queue.js';
import { ClientQuerySets } from './query-sets.js';
import {
  initialConnection,
  oneOffQueryResult,
  procedureInternalError,
  reducerResult,
  subscribeApplied,
  subscriptionError,
  unsubscribeApplied,
} from './server-messages.js';
import { compileVisibility, type QueryAuth, type RowVisibility, type SubscriptionQuery } from './sql-port.js';

export const PROCEDURES_UNSUPPORTED = 'procedures are not supported by devhost';

type Msg<T extends ClientMessage['tag']> = Extract<ClientMessage, { tag: T }>['value'];

export interface ClientSessionOptions {
  readonly db: HostedDatabase;
  readonly hub: DatabaseHub;
  readonly identity: bigint;
  readonly connectionId: bigint;
  /** The credential this socket authenticated with; echoed in InitialConnection. */
  readonly token: string;
  readonly version: WsVersion;
  readonly compression: Compression;
  readonly confirmedReads: boolean;
  readonly limits: Pick<
    DevhostLimits,
    'queryBytes' | 'queryTerms' | 'queriesPerConnection' | 'reducerArgsBytes'
  >;
  readonly sendFrame: (frame: Buffer) => void;
  /** Close the socket because of something the client sent (code 1011, like SpacetimeDB). */
  readonly closeWithError: (reason: string) => void;
  readonly logger: DevhostLogger;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function nowMicros(): bigint {
  return BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
}

export class ClientSession implements HubClient {
  readonly identity: bigint;
  readonly connectionId: bigint;
  private readonly querySets: ClientQuerySets;
  private readonly queue: OutboundQueue;
  private readonly auth: QueryAuth;
  private closed = false;

  constructor(private readonly o: ClientSessionOptions) {
    this.identity = o.identity;
    this.connectionId = o.connectionId;
    const isOwner = o.identity === o.db.owner;
    this.auth = { sender: o.identity, isOwner };
    // Row-level security applies to everyone but the owner (`AuthCtx::bypass_rls`).
    this.querySets = new ClientQuerySets(o.db, isOwner ? undefined : this.visibility());
    this.queue = new OutboundQueue({
      version: o.version,
      compression: o.compression,
      confirmed: o.confirmedReads,
      waitDurable: (offset) => o.db.waitDurable(offset),
      sendFrame: o.sendFrame,
      onFailure: (error) => {
        o.logger.warn(
          { err: messageOf(error), connectionId: this.connectionId.toString(16) },
          'durability wait failed',
        );
        // A transaction the commit log had no space for was rolled back: its answer will never come.
        const noSpace = (error as { code?: unknown })?.code === 'no-space';
        o.closeWithError(noSpace ? 'commit log out of space: transaction rolled back' : 'database went away');
      },
    });
  }

  private visibility(): RowVisibility {
    try {
      return compileVisibility(
        this.o.db.schema,
        this.auth,
        (tableId, scan) => (scan ? this.o.db.scanIndexRange(scan) : this.o.db.scanTable(tableId)),
        this.o.hub.visibilityRules.rulesFor,
      );
    } catch (e) {
      // SpacetimeDB refuses such a module at publish; here the safe reading is that nothing is visible.
      this.o.logger.error(
        { db: this.o.db.name, err: messageOf(e) },
        'row-level security rules do not compile',
      );
      return Object.assign(() => false, { dependsOn: new Set<number>(), refresh: () => [] });
    }
  }

  /** Joins the database's broadcast and sends `InitialConnection`, the first message on every socket. */
  start(): void {
    this.o.hub.add(this);
    this.send(initialConnection(this.identity, this.connectionId, this.o.token));
  }

  /** Leaves the broadcast and drops subscriptions and unsent messages (before client_disconnected runs). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.o.hub.remove(this);
    this.querySets.clear();
    this.queue.close();
  }

  send(body: Uint8Array, txOffset?: bigint): void {
    if (!this.closed) this.queue.push(body, txOffset);
  }

  updatesFor(tx: CommittedTx, memo?: TxEncodeMemo): QuerySetUpdate[] {
    return this.querySets.updatesFor(tx, memo);
  }

  handleFrame(data: Uint8Array, isBinary: boolean): void {
    if (this.closed) return;
    let messages: ClientMessage[];
    try {
      if (!isBinary) throw new ClientFrameError(`${this.o.version} websocket does not support text messages`);
      messages = decodeClientFrame(data, this.o.version);
    } catch (e) {
      this.o.closeWithError(messageOf(e));
      return;
    }
    for (const message of messages) {
      if (this.closed) return;
      try {
        this.handle(message);
      } catch (e) {
        // A handler that throws must not escape into the socket's message event (an uncaught
        // exception there stopped the whole host answering): the connection ends with the reason,
        // as SpacetimeDB drops a client whose message it could not handle.
        this.o.closeWithError(`internal error handling ${message.tag}: ${messageOf(e)}`);
        return;
      }
    }
  }

  private handle(message: ClientMessage): void {
    switch (message.tag) {
      case 'Subscribe':
        this.subscribe(message.value);
        return;
      case 'Unsubscribe':
        this.unsubscribe(message.value);
        return;
      case 'OneOffQuery':
        this.oneOffQuery(message.value);
        return;
      case 'CallReducer':
        this.callReducer(message.value);
        return;
      case 'CallProcedure':
        this.send(procedureInternalError(message.value.requestId, nowMicros(), PROCEDURES_UNSUPPORTED));
        return;
    }
  }

  /** `(Identity(..), ConnectionId(..))`, the Debug form SpacetimeDB puts in subscription errors. */
  private clientIdDebug(): string {
    return `(Identity(${identityToHex(this.identity)}), ConnectionId(${this.connectionId.toString(16).padStart(32, '0')}))`;
  }

  /** Compiles a query the client sent, within the size and complexity limits. */
  private compile(sql: string): SubscriptionQuery[] {
    const { queryBytes, queryTerms } = this.o.limits;
    const bytes = Buffer.byteLength(sql);
    if (bytes > queryBytes)
      throw new Error(`query of ${bytes} bytes is over the limit of ${queryBytes} bytes`);
    return this.o.hub.queries.compile(sql, this.o.db.schema, this.auth, (terms) => {
      if (terms > queryTerms)
        throw new Error(`query with ${terms} comparisons is over the limit of ${queryTerms}`);
    });
  }

  private subscribe({ requestId, querySetId, queryStrings }: Msg<'Subscribe'>): void {
    const queries: SubscriptionQuery[] = [];
    for (const raw of queryStrings) {
      const sql = raw.trim();
      try {
        queries.push(...this.compile(sql));
      } catch (e) {
        // `DBError::WithSql`: nothing is registered when any query fails to compile.
        this.send(subscriptionError(requestId, querySetId.id, `${messageOf(e)}, executing: \`${sql}\``));
        return;
      }
    }
    const limit = this.o.limits.queriesPerConnection;
    if (this.querySets.queryCount + queries.length > limit) {
      this.send(
        subscriptionError(
          requestId,
          querySetId.id,
          `too many queries on this connection: at most ${limit} (unsubscribe some first)`,
        ),
      );
      return;
    }
    if (this.querySets.has(querySetId.id)) {
      // SpacetimeDB returns this from the handler, which ends the connection rather than answering.
      this.o.closeWithError(
        `error executing message (reducer: None) (err: Subscription with id QuerySetId { id: ${querySetId.id} } already exists for client: ${this.clientIdDebug()})`,
      );
      return;
    }
    const registered = this.querySets.add(querySetId.id, queries);
    this.send(
      subscribeApplied(requestId, querySetId.id, this.querySets.currentRows(registered)),
      this.o.hub.lastOffset,
    );
  }

  private unsubscribe({ requestId, querySetId, flags }: Msg<'Unsubscribe'>): void {
    const id = querySetId.id;
    if (!this.querySets.has(id)) {
      const error = this.querySets.hasRegistered
        ? `Subscription not found: (${this.clientIdDebug()}, QuerySetId { id: ${id} })`
        : `Client not found: ${this.clientIdDebug()}`;
      this.send(subscriptionError(requestId, id, error));
      return;
    }
    const queries = this.querySets.remove(id) ?? [];
    const rows =
      flags.tag === 'SendDroppedRows' ? { tables: this.querySets.currentRows(queries) } : undefined;
    this.send(unsubscribeApplied(requestId, id, rows), this.o.hub.lastOffset);
  }

  private oneOffQuery({ requestId, queryString }: Msg<'OneOffQuery'>): void {
    let queries: SubscriptionQuery[];
    try {
      queries = this.compile(queryString.trim());
    } catch (e) {
      this.send(oneOffQueryResult(requestId, { err: messageOf(e) }), this.o.hub.lastOffset);
      return;
    }
    this.send(
      oneOffQueryResult(requestId, { ok: { tables: this.querySets.queryRows(queries) } }),
      this.o.hub.lastOffset,
    );
  }

  private callReducer({ requestId, reducer, args }: Msg<'CallReducer'>): void {
    const max = this.o.limits.reducerArgsBytes;
    if (args.length > max) {
      const message = `reducer ${reducer}: arguments of ${args.length} bytes are over the limit of ${max} bytes`;
      this.send(reducerResult(requestId, nowMicros(), { kind: 'internal', message }));
      return;
    }
    // Like `enqueue_reducer_v2`: later messages are handled without waiting for this one to run.
    this.o.db.callReducer(reducer, args, { identity: this.identity, connectionId: this.connectionId }).then(
      (outcome) => {
        if (this.closed) return;
        switch (outcome.kind) {
          case 'committed':
            // Runs before the next transaction can start, so the update matches the state it was computed on.
            this.send(
              reducerResult(requestId, outcome.tx.timestamp, {
                kind: 'ok',
                querySets: this.querySets.updatesFor(outcome.tx),
              }),
              outcome.tx.offset,
            );
            return;
          case 'failed-user':
            this.send(reducerResult(requestId, outcome.timestamp, { kind: 'err', message: outcome.message }));
            return;
          case 'failed-internal':
            this.send(
              reducerResult(requestId, outcome.timestamp, { kind: 'internal', message: outcome.message }),
            );
            return;
        }
      },
      (error: unknown) => {
        this.o.logger.error({ err: messageOf(error), reducer }, 'reducer call failed in the host');
        this.send(reducerResult(requestId, nowMicros(), { kind: 'internal', message: messageOf(error) }));
      },
    );
  }
}
