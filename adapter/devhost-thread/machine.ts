/**
 * The embedded devhost's worker thread (./thread-devhost.ts) as a tagged union with one pure
 * transition function: starting → ready → stopping → stopped, or failed. The thread is part of the
 * service: once ready, its death is the service's failure (never a silent restart), and a stop is
 * graceful only when the thread said its commit logs are flushed before it exited.
 */

export interface ReadyDevhost {
  readonly url: string;
  readonly port: number;
  /** Came by message from the thread; never logged. */
  readonly ownerToken: string;
  readonly ownerIdentity: bigint;
  readonly osThreadId?: number;
}

export type DevhostThreadState =
  /** The worker loads devhost and the module, opens the commit logs, listens. */
  | { readonly kind: 'starting' }
  | { readonly kind: 'ready'; readonly devhost: ReadyDevhost }
  /** `flushed`: the thread reported devhost stopped (commit logs flushed and closed). */
  | { readonly kind: 'stopping'; readonly flushed: boolean }
  | { readonly kind: 'stopped' }
  /** `wasReady`: it died while serving (the service fails) rather than while starting (the start fails). */
  | { readonly kind: 'failed'; readonly why: string; readonly wasReady: boolean };

export type DevhostThreadKind = DevhostThreadState['kind'];

export type DevhostThreadEvent =
  | { readonly type: 'ready'; readonly devhost: ReadyDevhost }
  /** stop() from the service (SIGTERM, or a later start step failed). */
  | { readonly type: 'stop' }
  /** The thread stopped devhost: every commit log flushed and closed. */
  | { readonly type: 'flushed' }
  /** The thread threw, could not start devhost, or exited; `why` says which. */
  | { readonly type: 'died'; readonly why: string };

/** The next state, or undefined when the event is refused or ignored in this state. */
export function transitionDevhostThread(
  s: DevhostThreadState,
  e: DevhostThreadEvent,
): DevhostThreadState | undefined {
  switch (e.type) {
    case 'ready':
      return s.kind === 'starting' ? { kind: 'ready', devhost: e.devhost } : undefined;
    case 'stop':
      return s.kind === 'starting' || s.kind === 'ready' ? { kind: 'stopping', flushed: false } : undefined;
    case 'flushed':
      return s.kind === 'stopping' && !s.flushed ? { kind: 'stopping', flushed: true } : undefined;
    case 'died':
      if (s.kind === 'starting') return { kind: 'failed', why: e.why, wasReady: false };
      if (s.kind === 'ready') return { kind: 'failed', why: e.why, wasReady: true };
      // The thread ends after it flushed: that is the graceful stop. Ending before is not.
      if (s.kind === 'stopping')
        return s.flushed
          ? { kind: 'stopped' }
          : { kind: 'failed', why: `stopped before its commit logs were flushed: ${e.why}`, wasReady: false };
      return undefined;
  }
}
