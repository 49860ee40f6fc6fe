/**
 * STATE-MACHINE.md as rendered from the machines' spec tables, so the document cannot drift from
 * the code: state-machine-doc.test.ts fails when the file differs, and
 * `npm run client:state-doc` rewrites it.
 */
import { CONNECTION_SPEC } from './connection-spec.js';
import { renderSpec } from './machine-spec.js';
import { STREAM_SPEC } from './stream-spec.js';

export const STATE_MACHINE_DOC = new URL('./STATE-MACHINE.md', import.meta.url);

export function stateMachineDoc(): string {
  return [
    '# Sync client state machines',
    '',
    '<!-- Generated from client/connection-spec.ts and client/stream-spec.ts by `npm run client:state-doc`;',
    '     client/state-machine-doc.test.ts fails when this file is out of date. -->',
    '',
    '`SyncClient` (`client/sync-client.ts`) runs two kinds of machine, each a tagged union with one',
    'transition function that returns the next state and the effects to carry out. An event that does',
    'not fit the state comes back as the same state with no effects. Async work (a diagnosis, a',
    'rebootstrap, a drain) re-checks the machine after every `await` and drops its result when the',
    'state moved on. The connection machine’s effects are carried out by `client/connection-effects.ts`',
    '(it owns the SDK socket; the token comes from `client/token-provider.ts`), the stream machine’s by',
    '`client/stream-runner.ts`. The tests drive every cell of the tables below',
    '(`client/connection-machine.test.ts`, `client/stream-machine.test.ts`).',
    '',
    'The reported `ClientState` (`onState`, `currentState`; `client/client-state.ts`) is derived from',
    'both: `connecting` while connecting or diagnosing, `backoff`, `closed`; while connected,',
    '`rebootstrapping` if any stream is, `live` when every stream is, else `replaying`. `closing`',
    'reports nothing new until `closed`. `onState` also gets `retryAt` in `backoff` and the',
    '`SyncClientError` that closed the client.',
    '',
    renderSpec(CONNECTION_SPEC),
    renderSpec(STREAM_SPEC),
    '## Invariants',
    '',
    'Driven by `client/*.test.ts` and `test/client/*.test.ts` (a model test with random appends,',
    'duplicates, reconnects, devhost restarts, truncations and epoch bumps):',
    '',
    '- The application sees each stream’s events exactly once, in seq order, or an explicit',
    '  rebootstrap — never a silent gap. The `StreamApplier` holds back anything after a gap.',
    '- Events and rebootstraps reach the application one at a time, on one chain per stream.',
    '- The stored cursor only advances after the application’s `onEvent` resolved for that seq.',
    '- A server whose head is below the client’s watermark in the same epoch (it lost history) is',
    '  answered with a rebootstrap (`server_behind`), never by resuming past its head.',
    '- `ack_checkpoint` is sent (throttled, each call bounded by a timeout) only for applied seqs;',
    '  with confirmed reads every delivered update is already durable on the server.',
    '- Permanent failures close the client with a typed `SyncClientError`; nothing else does.',
    '',
  ].join('\n');
}
