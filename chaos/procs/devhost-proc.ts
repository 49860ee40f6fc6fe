/** devhost as its own process (`spacetime-sync devhost --data DIR`): killed with -9 and restarted on the same dir and port. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanEnv, type Proc, startProc } from './child.js';

export const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
export const SYNC_MODULE = new URL('../../module/src/index.ts', import.meta.url).pathname;
export const SYNC_DB = 'sync';

export interface DevhostProc {
  readonly proc: Proc;
  /** ws://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly ownerToken: string;
}

/** `nodeArgs`: options for the devhost's node (a bench's `--cpu-prof`, which NODE_OPTIONS refuses). */
export async function startDevhostProc(
  dataDir: string,
  port = 0,
  nodeArgs: readonly string[] = [],
): Promise<DevhostProc> {
  const proc = startProc(
    'devhost',
    process.execPath,
    [
      ...nodeArgs,
      BIN,
      'devhost',
      '--module',
      SYNC_MODULE,
      '--name',
      SYNC_DB,
      '--data',
      dataDir,
      '--port',
      String(port),
    ],
    cleanEnv({}),
  );
  const m = await proc.waitFor(/devhost listening on (ws:\/\/[\d.]+:(\d+))/, 120_000);
  const ownerToken = (await readFile(join(dataDir, 'owner-token'), 'utf8')).trim();
  return { proc, url: m[1] as string, port: Number(m[2]), ownerToken };
}
