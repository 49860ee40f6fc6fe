/**
 * The delivery probe machine's specification (./probe-machine.ts): checked cell by cell against
 * `transitionProbe` by probe-machine.test.ts, rendered into adapter/STATE-MACHINE.md.
 */
import { type MachineSpec, type Outcome, specRow } from '../../shared/machine-spec.js';
import type { ProbeKind } from './probe-machine.js';

export type ProbeCase =
  | 'start'
  | 'subscribed'
  | 'socket_lost'
  | 'retry_due'
  | 'event from an earlier socket'
  | 'configured (first time)'
  | 'stop';

const KINDS: readonly ProbeKind[] = ['idle', 'connecting', 'watching', 'waiting', 'stopped'];

export const PROBE_SPEC: MachineSpec<ProbeKind, ProbeCase> = {
  title: 'DeliveryProbe',
  intro:
    'Fan-out latency as a subscriber sees it (`adapter/spacetime/probe-machine.ts`): one probe event per ' +
    'interval through the service’s writer, timed until the probe’s own confirmed-read subscriber has it. ' +
    'Probes fire only while `watching`; a probe not received within 30 s counts as missed whatever the state.',
  states: {
    idle: 'constructed, not started',
    connecting: 'the subscriber socket opens and subscribes to the probe stream',
    watching: 'subscribed: each interval appends a probe event and times its arrival',
    waiting: 'the subscriber socket dropped; a new one opens after a second',
    stopped: 'done: no timer, no socket',
  },
  events: {
    start: '`start()`',
    subscribed: 'the probe stream subscription is applied',
    socket_lost: 'the subscriber socket failed to connect or closed',
    retry_due: 'the reconnect wait elapsed',
    'event from an earlier socket': 'any socket event naming a socket other than the current one',
    'configured (first time)': 'the probe stream’s retention was set (once; it holds across reconnects)',
    stop: '`stop()`',
  },
  table: {
    start: row({ idle: 'connecting' }),
    subscribed: row({ connecting: 'watching' }),
    socket_lost: row({ connecting: 'waiting', watching: 'waiting' }),
    retry_due: row({ waiting: 'connecting' }),
    'event from an earlier socket': row({}),
    'configured (first time)': row({ connecting: 'connecting', watching: 'watching', waiting: 'waiting' }),
    stop: row({ idle: 'stopped', connecting: 'stopped', watching: 'stopped', waiting: 'stopped' }),
  },
};

function row(cells: Partial<Record<ProbeKind, ProbeKind>>): Record<ProbeKind, Outcome<ProbeKind>> {
  return specRow(KINDS, cells);
}
