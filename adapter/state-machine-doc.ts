/**
 * adapter/STATE-MACHINE.md as rendered from the service's machine specs, so the document cannot
 * drift from the code: state-machine-doc.test.ts fails when the file differs, and
 * `npm run adapter:state-doc` rewrites it.
 */
import { renderSpec } from '../shared/machine-spec.js';
import { DEVHOST_THREAD_SPEC } from './devhost-thread/spec.js';
import { KAFKA_SOURCE_SPEC } from './kafka/lifecycle-spec.js';
import { SERVICE_SPEC } from './service-spec.js';
import { PROBE_SPEC } from './spacetime/probe-spec.js';
import { WRITER_SPEC } from './spacetime/writer-spec.js';

export const ADAPTER_STATE_MACHINE_DOC = new URL('./STATE-MACHINE.md', import.meta.url);

export function adapterStateMachineDoc(): string {
  return [
    '# Service state machines',
    '',
    '<!-- Generated from the *-spec.ts tables under adapter/ by `npm run adapter:state-doc`;',
    '     adapter/state-machine-doc.test.ts fails when this file is out of date. -->',
    '',
    'Each lifecycle of the service is a tagged union with one pure transition function; the class that',
    'runs it feeds it events and carries out what it returns, and re-checks the state after every',
    '`await`, so a late callback or a `stop()` that lands mid-way cannot be overridden by older work.',
    'Socket events carry their socket’s number; an event from an earlier socket changes nothing. The',
    'tests drive every cell of the tables below, refusals included (`adapter/service-machine.test.ts`,',
    '`adapter/kafka/lifecycle.test.ts`, `adapter/spacetime/writer-machine.test.ts`,',
    '`adapter/spacetime/probe-machine.test.ts`, `adapter/devhost-thread/machine.test.ts`). The desktop client’s machines are in',
    '[client/STATE-MACHINE.md](../client/STATE-MACHINE.md).',
    '',
    renderSpec(SERVICE_SPEC),
    renderSpec(KAFKA_SOURCE_SPEC),
    renderSpec(WRITER_SPEC),
    renderSpec(PROBE_SPEC),
    renderSpec(DEVHOST_THREAD_SPEC),
  ].join('\n');
}
