/**
 * The writer machine's specification (./writer-machine.ts): checked cell by cell against
 * `transitionWriter` by writer-machine.test.ts, rendered into adapter/STATE-MACHINE.md.
 */
import { type MachineSpec, type Outcome, specRow } from '../../shared/machine-spec.js';
import type { WriterKind } from './writer-machine.js';

export type WriterCase =
  | 'socket_opened'
  | 'subscription_applied'
  | 'socket_lost'
  | 'retry_due'
  | 'event from an earlier socket'
  | 'close'
  | 'drained';

const KINDS: readonly WriterKind[] = [
  'connecting',
  'subscribing',
  'connected',
  'backoff',
  'closing',
  'closed',
];

export const WRITER_SPEC: MachineSpec<WriterKind, WriterCase> = {
  title: 'SpacetimeWriter',
  intro:
    'The service’s one connection to SpacetimeDB (`adapter/spacetime/writer-machine.ts`). Appends go out ' +
    'only in `connected`, up to `SPACETIMEDB_MAX_IN_FLIGHT` reducer calls at once, sent in call order ' +
    '(SpacetimeDB runs one connection’s calls in the order sent; `adapter/spacetime/call-window.ts`); a call ' +
    'made in any other state fails at once with `unavailable` (the Kafka path retries it, ingest answers it). ' +
    'Lost connections are reopened with capped, jittered backoff; every call in flight on a lost socket ' +
    'fails at once as `unavailable` instead of waiting out its timeout.',
  states: {
    connecting: 'opening socket `socket` (the SDK’s token exchange and websocket upgrade)',
    subscribing: 'connected; subscribing to `sync_stream`, `source_cursor` and `append_receipt`',
    connected: 'subscribed: appends go out, cursors and stream heads are read from the subscription',
    backoff: 'waiting for the backoff delay (longer after each consecutive failure) before the next socket',
    closing: '`close()`: calls already queued finish, nothing reconnects',
    closed: 'done; the socket is closed',
  },
  events: {
    socket_opened: 'the SDK connected (`onConnect`)',
    subscription_applied: 'the writer’s subscription is applied',
    socket_lost:
      'the SDK reported a connect error or a disconnect, or the subscription failed; in `closing` it only fails the calls in flight',
    retry_due: 'the backoff delay elapsed',
    'event from an earlier socket': 'any socket event naming a socket other than the current one',
    close: '`close()`',
    drained: 'the calls queued before `close()` finished',
  },
  table: {
    socket_opened: row({ connecting: 'subscribing' }),
    subscription_applied: row({ subscribing: 'connected' }),
    socket_lost: row({
      connecting: 'backoff',
      subscribing: 'backoff',
      connected: 'backoff',
      closing: 'closing',
    }),
    retry_due: row({ backoff: 'connecting' }),
    'event from an earlier socket': row({}),
    close: row({
      connecting: 'closing',
      subscribing: 'closing',
      connected: 'closing',
      backoff: 'closing',
    }),
    drained: row({ closing: 'closed' }),
  },
};

function row(cells: Partial<Record<WriterKind, WriterKind>>): Record<WriterKind, Outcome<WriterKind>> {
  return specRow(KINDS, cells);
}
