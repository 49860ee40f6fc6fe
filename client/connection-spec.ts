/**
 * The connection machine's specification (connection-machine.ts): checked cell by cell against
 * `transitionConnection` by connection-machine.test.ts, rendered into STATE-MACHINE.md.
 */
import type { ConnectionKind } from './connection-machine.js';
import type { MachineSpec } from './machine-spec.js';

export type ConnectionCase =
  | 'socket_created'
  | 'socket_opened'
  | 'stream_rows_applied'
  | 'connect_failed'
  | 'socket_lost'
  | 'diagnosed (transient)'
  | 'diagnosed (permanent)'
  | 'subscription_refused'
  | 'retry_due'
  | 'event from an earlier socket'
  | 'close_requested'
  | 'fatal'
  | 'drained';

export const CONNECTION_SPEC: MachineSpec<ConnectionKind, ConnectionCase> = {
  title: 'Connection',
  intro:
    'One per client (`client/connection-machine.ts`). Events from a socket carry its number; the machine ' +
    'only listens to the current one. Permanent failures close the client with a `SyncClientError` ' +
    '(`client/client-error.ts`); transient ones back off with capped, jittered delays and retry, and ' +
    '`SyncClient.nextRetryAt` tells when.',
  states: {
    connecting:
      'opening the websocket, waiting for `InitialConnection`; once its SDK session exists the subscriptions are queued in it (sent in the socket’s first frame)',
    diagnosing: 'the attempt failed before connecting; asking the host over HTTP whether that is permanent',
    subscribing:
      'connected; the streams’ `sync_stream` rows (with the live event table) and each stream’s first event subscription are asked for together, the rows are not read yet',
    open: 'connected; each stream runs its own machine (below)',
    backoff: 'waiting until `retryAt` before the next attempt',
    closing: 'finishing deliveries in progress, flushing acks',
    closed: 'done; `error` set when a permanent failure closed it',
  },
  events: {
    socket_created:
      'the socket’s SDK session exists (a token provider answered): queue the stream rows’ subscription (with the live event table), then each stream’s first event subscription',
    socket_opened: 'the host sent `InitialConnection`',
    stream_rows_applied: 'the `sync_stream` subscription is applied: each stream checks its row',
    connect_failed: 'the SDK reported a connect error (token exchange or upgrade refused, nothing listening)',
    socket_lost: 'the socket closed',
    'diagnosed (transient)':
      'the host is unreachable, overloaded, or answers normally (the failure was passing): retry',
    'diagnosed (permanent)':
      'the host refused the token (`unauthenticated`), has no such database (`unknown_database`) or is not SpacetimeDB (`not_spacetimedb`)',
    subscription_refused:
      'the database refused a subscription: not a compatible spacetime-sync module (`subscription_refused`)',
    retry_due: 'the backoff delay elapsed',
    'event from an earlier socket': 'any socket event naming a socket other than the current one',
    close_requested: '`close()`',
    fatal:
      'a permanent failure outside the connection: a rebootstrap loop (`rebootstrap_loop`), or the application or its cursor store threw (`application_failed`)',
    drained: 'deliveries in progress finished and acks were flushed',
  },
  table: {
    socket_created: r({ connecting: 'connecting' }),
    socket_opened: r({ connecting: 'subscribing' }),
    stream_rows_applied: r({ subscribing: 'open' }),
    connect_failed: r({ connecting: 'diagnosing', subscribing: 'backoff', open: 'backoff' }),
    socket_lost: r({ connecting: 'diagnosing', subscribing: 'backoff', open: 'backoff' }),
    'diagnosed (transient)': r({ diagnosing: 'backoff' }),
    'diagnosed (permanent)': r({ diagnosing: 'closing' }),
    subscription_refused: r({ subscribing: 'closing', open: 'closing' }),
    retry_due: r({ backoff: 'connecting' }),
    'event from an earlier socket': r({}),
    close_requested: r({
      connecting: 'closing',
      diagnosing: 'closing',
      subscribing: 'closing',
      open: 'closing',
      backoff: 'closing',
    }),
    fatal: r({
      connecting: 'closing',
      diagnosing: 'closing',
      subscribing: 'closing',
      open: 'closing',
      backoff: 'closing',
    }),
    drained: r({ closing: 'closed' }),
  },
};

/** A row: the listed cells, `·` everywhere else. */
function r(
  cells: Partial<Record<ConnectionKind, ConnectionKind>>,
): Record<ConnectionKind, ConnectionKind | '·'> {
  return {
    connecting: cells.connecting ?? '·',
    diagnosing: cells.diagnosing ?? '·',
    subscribing: cells.subscribing ?? '·',
    open: cells.open ?? '·',
    backoff: cells.backoff ?? '·',
    closing: cells.closing ?? '·',
    closed: cells.closed ?? '·',
  };
}
