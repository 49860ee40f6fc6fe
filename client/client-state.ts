/**
 * The one state a SyncClient reports (`onState`, `currentState`), derived from its connection
 * machine and its streams' machines — never stored apart from them, so it cannot disagree.
 */
import type { ConnectionState } from './connection-machine.js';
import type { StreamState } from './stream-machine.js';

export type ClientState = 'connecting' | 'replaying' | 'live' | 'rebootstrapping' | 'backoff' | 'closed';

/** Undefined while closing: the client keeps reporting what it was until it is closed. */
export function clientState(conn: ConnectionState, streams: Iterable<StreamState>): ClientState | undefined {
  switch (conn.kind) {
    case 'connecting':
    case 'diagnosing':
      return 'connecting';
    case 'backoff':
      return 'backoff';
    case 'closing':
      return undefined;
    case 'closed':
      return 'closed';
    case 'subscribing':
      return 'replaying';
    case 'open': {
      let live = true;
      for (const s of streams) {
        if (s.kind === 'rebootstrapping') return 'rebootstrapping';
        if (s.kind !== 'live') live = false;
      }
      return live ? 'live' : 'replaying';
    }
  }
}
