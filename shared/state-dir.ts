/**
 * The per-user state directory the service and the CLI on one machine share: `local.json` (where the
 * local service listens) and the local token issuer's key. `$SPACETIME_SYNC_STATE_DIR`, else
 * `$XDG_STATE_HOME/spacetime-sync`, else `~/.local/state/spacetime-sync`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function stateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return (
    env.SPACETIME_SYNC_STATE_DIR?.trim() ||
    join(env.XDG_STATE_HOME?.trim() || join(homedir(), '.local', 'state'), 'spacetime-sync')
  );
}
