/**
 * Carries out the connection machine's effects (connection-machine.ts): opening the SDK socket with
 * its token (token-provider.ts) and a connect timeout, subscribing the stream rows, attaching and
 * detaching the stream runners, diagnosing a failed attempt, scheduling the retry, draining and
 * finishing. It owns the SDK session; every socket callback carries its socket's number, so an event
 * from an earlier socket changes nothing. SyncClient (sync-client.ts) feeds the machine and owns
 * the rest: reporting, acks and presence.
 */
import { diagnoseConnectFailure } from '../shared/connect-diagnosis.js';
import { SyncClientError } from './client-error.js';
import type { ConnectionEffect, ConnectionEvent, ConnectionState } from './connection-machine.js';
import { SdkSession } from './sdk-session.js';
import type { StreamRunner } from './stream-runner.js';
import { liveQuery, streamQuery, TOKEN_SESSION_QUERY } from './subscription-plan.js';
import type { Timers } from './timers.js';
import { type TokenSource, withToken } from './token-provider.js';

/** What the effects need of the client that runs the machine. */
export interface EffectHost {
  readonly options: {
    readonly uri: string;
    readonly database: string;
    readonly token?: TokenSource;
    readonly connectTimeoutMs?: number;
  };
  readonly runners: ReadonlyMap<string, StreamRunner>;
  readonly timers: Timers;
  /** The machine's current state (re-read after every await and in every callback). */
  state(): ConnectionState;
  dispatch(event: ConnectionEvent): void;
  /** Closes the client for good, saying why. */
  closeWith(error: SyncClientError): void;
  /** Stops taking events, finishes what is in flight, flushes acks, then dispatches `drained`. */
  drain(): Promise<void>;
}

export class ConnectionEffects {
  private current: SdkSession | undefined;
  /** The token the latest connection attempt used (what a failed attempt is diagnosed with). */
  private lastToken: string | undefined;

  constructor(private readonly host: EffectHost) {}

  /** The open SDK session, if any (acks and presence go through it). */
  get session(): SdkSession | undefined {
    return this.current;
  }

  perform(fx: ConnectionEffect): void {
    const host = this.host;
    switch (fx.type) {
      case 'open_socket': {
        this.open(fx.socket);
        const ms = host.options.connectTimeoutMs ?? 15_000;
        host.timers.after(ms, () => {
          // Only if this very attempt is still waiting: a later state or socket is not touched.
          const s = host.state();
          if (s.kind === 'connecting' && s.socket === fx.socket)
            host.dispatch({
              type: 'connect_failed',
              socket: fx.socket,
              failure: `no answer to the connection within ${ms} ms`,
            });
        });
        return;
      }
      case 'subscribe_stream_rows':
        // The stream rows and the live event table, together and before any replay (the streams'
        // first subscriptions are sent right after this one, in the same turn): every event
        // committed after this is applied reaches the client live, every one before is in the replay.
        this.current?.subscribe(
          [
            ...[...host.runners.keys()].flatMap((id) => [streamQuery(id), liveQuery(id)]),
            TOKEN_SESSION_QUERY,
          ],
          () => host.dispatch({ type: 'stream_rows_applied', socket: fx.socket }),
          (detail) => this.refused(`stream rows: ${detail}`),
        );
        return;
      case 'start_streams':
        for (const r of host.runners.values()) if (this.current) r.attach(this.current);
        return;
      case 'check_streams':
        for (const r of host.runners.values()) r.rowRead();
        return;
      case 'streams_lost':
        for (const r of host.runners.values()) r.detach();
        return;
      case 'drop_socket':
        this.dropSession();
        return;
      case 'diagnose': {
        const { uri, database } = host.options;
        void diagnoseConnectFailure({ uri, database, token: this.lastToken }).then((d) =>
          host.dispatch({
            type: 'diagnosed',
            socket: fx.socket,
            diagnosis:
              d.kind === 'permanent'
                ? { kind: 'permanent', error: new SyncClientError(d.code, d.message) }
                : d,
          }),
        );
        return;
      }
      case 'schedule_retry':
        host.timers.after(Math.max(0, fx.at - Date.now()), () =>
          host.dispatch({ type: 'retry_due', socket: fx.socket }),
        );
        return;
      case 'drain':
        void host.drain();
        return;
      case 'finish':
        host.timers.clear();
        this.dropSession();
        return;
    }
  }

  private dropSession(): void {
    this.current?.disconnect();
    this.current = undefined;
  }

  /** A subscription the host refused closes the client for good. */
  refused(detail: string): void {
    this.host.closeWith(new SyncClientError('subscription_refused', detail));
  }

  /** Opens socket `socket` with the fixed token, or once the provider answered (if still current). */
  private open(socket: number): void {
    const host = this.host;
    withToken(
      host.options.token,
      () => {
        const s = host.state();
        return s.kind === 'connecting' && s.socket === socket;
      },
      (token) => {
        this.lastToken = token;
        this.current = this.openSession(socket, token);
        host.dispatch({ type: 'socket_created', socket });
      },
      (failure) => host.dispatch({ type: 'connect_failed', socket, failure }),
    );
  }

  private openSession(socket: number, token: string | undefined): SdkSession {
    const host = this.host;
    const { uri, database } = host.options;
    const socketOpen = () => {
      const s = host.state();
      return s.kind === 'open' && s.socket === socket;
    };
    return new SdkSession(
      { uri, database, token },
      {
        opened: () => host.dispatch({ type: 'socket_opened', socket }),
        connectFailed: (failure) => host.dispatch({ type: 'connect_failed', socket, failure }),
        lost: (failure) => host.dispatch({ type: 'socket_lost', socket, failure }),
        eventInserted: (streamId, event) => {
          if (socketOpen()) host.runners.get(streamId)?.eventInserted(event);
        },
        streamChanged: (streamId, updated) => {
          if (socketOpen()) host.runners.get(streamId)?.streamChanged(updated);
        },
        // The module cannot drop the socket: the client closes itself, permanently, saying why.
        sessionRevoked: (sessionId) =>
          host.closeWith(
            new SyncClientError(
              'unauthenticated',
              `session '${sessionId}' was revoked; sign in again for a new token`,
            ),
          ),
      },
    );
  }
}
