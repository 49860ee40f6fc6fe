/**
 * The devhost thread machine's specification (./machine.ts): checked cell by cell against
 * `transitionDevhostThread` by machine.test.ts, rendered into adapter/STATE-MACHINE.md.
 */
import { type MachineSpec, type Outcome, specRow } from '../../shared/machine-spec.js';
import type { DevhostThreadKind } from './machine.js';

export type DevhostThreadCase =
  | 'ready'
  | 'stop'
  | 'flushed'
  | 'flushed (again)'
  | 'died'
  | 'died (after flushed)';

const KINDS: readonly DevhostThreadKind[] = ['starting', 'ready', 'stopping', 'stopped', 'failed'];

export const DEVHOST_THREAD_SPEC: MachineSpec<DevhostThreadKind, DevhostThreadCase> = {
  title: 'DevhostThread',
  intro:
    'The embedded devhost on its own `worker_threads` thread (`adapter/devhost-thread/machine.ts`, ' +
    '`DEVHOST_THREAD=worker`, the default). The owner token comes from the thread by message. A thread ' +
    'that dies while `ready` fails the service: `/readyz` says why and `spacetime-sync start` exits 1.',
  states: {
    starting: 'the thread loads devhost and the module, opens the commit logs and listens',
    ready: 'serving on its loopback port; its address and owner token are known',
    stopping: 'asked to stop devhost; `flushed` once it reported its commit logs flushed and closed',
    stopped: 'the thread ended after flushing: the graceful end',
    failed:
      'the thread threw or exited on its own (while starting: the start fails; while ready: the service fails)',
  },
  events: {
    ready: 'the thread reports devhost listening',
    stop: '`stop()` (SIGTERM, or a later start step failed)',
    flushed: 'the thread reports devhost stopped, commit logs flushed',
    'flushed (again)': 'a second such report',
    died: 'the thread threw, could not start devhost, or exited (in `stopping`: before its flush report)',
    'died (after flushed)':
      'the same, with `stopping` already flushed: the thread ended after its flush report',
  },
  table: {
    ready: row({ starting: 'ready' }),
    stop: row({ starting: 'stopping', ready: 'stopping' }),
    flushed: row({ stopping: 'stopping' }),
    'flushed (again)': row({}),
    died: row({ starting: 'failed', ready: 'failed', stopping: 'failed' }),
    'died (after flushed)': row({ starting: 'failed', ready: 'failed', stopping: 'stopped' }),
  },
};

function row(
  cells: Partial<Record<DevhostThreadKind, DevhostThreadKind>>,
): Record<DevhostThreadKind, Outcome<DevhostThreadKind>> {
  return specRow(KINDS, cells);
}
