/**
 * The service machine's specification (./service-machine.ts): checked cell by cell against
 * `transitionService` by service-machine.test.ts, rendered into adapter/STATE-MACHINE.md.
 */
import { type MachineSpec, type Outcome, specRow } from '../shared/machine-spec.js';
import type { ServiceKind } from './service-machine.js';

export type ServiceCase = 'started' | 'stop' | 'stopped';

const KINDS: readonly ServiceKind[] = ['starting', 'running', 'stopping', 'stopped'];

export const SERVICE_SPEC: MachineSpec<ServiceKind, ServiceCase> = {
  title: 'Service',
  intro:
    '`startService` (`adapter/service-machine.ts`) starts its parts in order — devhost when embedded, the ' +
    'writer and cutover store (connecting in the background), the HTTP listener, then waits for SpacetimeDB ' +
    'however long it is away (a refused token or a missing database end the start), then the Kafka source, ' +
    'the probe, the bridge, shadow parity — re-checking the ' +
    'machine after each await; each part that started is stopped (in reverse) by `stop()`, by a stop that ' +
    'lands while starting, or when a later part fails to start. `/readyz` answers 200 only in `running`, ' +
    'with SpacetimeDB connected and, when Kafka is configured, its consumer running.',
  states: {
    starting: 'parts are starting; not ready (`/readyz` says when it waits for SpacetimeDB, and why)',
    running: 'every part is up; ready while SpacetimeDB is connected and the consumer runs',
    stopping: 'stopping the parts that started, newest first; not ready',
    stopped: 'done',
  },
  events: {
    started: 'every part is up',
    stop: '`stop()`, the start’s abort signal (SIGTERM while starting), or a part failed to start',
    stopped: 'every part that had started is stopped',
  },
  table: {
    started: row({ starting: 'running' }),
    stop: row({ starting: 'stopping', running: 'stopping' }),
    stopped: row({ stopping: 'stopped' }),
  },
};

function row(cells: Partial<Record<ServiceKind, ServiceKind>>): Record<ServiceKind, Outcome<ServiceKind>> {
  return specRow(KINDS, cells);
}
