/** A chaos client process (chaos/clients/client-main.ts) with its journal; killed and restarted by the runner. */
import { cleanEnv, type Proc, startProc } from './child.js';

const MAIN = new URL('../clients/client-main.ts', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

export interface ClientSettings {
  readonly clientId: string;
  readonly journal: string;
  readonly uri: string;
  readonly database: string;
  readonly token: string;
  readonly streams: readonly string[];
  readonly markerStream: string;
}

export function startClientProc(s: ClientSettings): Proc {
  return startProc(
    s.clientId,
    process.execPath,
    ['--import', 'tsx', MAIN],
    cleanEnv({
      CHAOS_URI: s.uri,
      CHAOS_DB: s.database,
      CHAOS_TOKEN: s.token,
      CHAOS_STREAMS: s.streams.join(','),
      CHAOS_JOURNAL: s.journal,
      CHAOS_CLIENT_ID: s.clientId,
      CHAOS_MARKER_STREAM: s.markerStream,
    }),
    ROOT,
  );
}

/** Resolves when the client has applied the marker stream's event `seq`. */
export async function appliedMarker(p: Proc, seq: bigint, timeoutMs: number): Promise<void> {
  await p.waitFor(new RegExp(`^marker ${seq}$`, 'm'), timeoutMs);
}
