/**
 * The adapters' writer identity for a SpacetimeDB they do not embed: minted by the host
 * (`POST /v1/identity`) and granted writer by the owner through the CLI, as an operator does
 * (README "Configuration"). The owner token goes to the CLI in its environment, never on the command line.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cleanEnv } from './child.js';
import { BIN } from './devhost-proc.js';

const run = promisify(execFile);

export async function grantedWriter(o: {
  uri: string;
  database: string;
  ownerToken: string;
}): Promise<string> {
  const res = await fetch(`${o.uri.replace(/^ws/, 'http')}/v1/identity`, { method: 'POST' });
  if (!res.ok) throw new Error(`minting a writer identity failed: HTTP ${res.status}`);
  const { identity, token } = (await res.json()) as { identity: string; token: string };
  await run(
    process.execPath,
    [
      BIN,
      'grant',
      'writer',
      identity,
      '--label',
      'chaos-adapters',
      '--spacetimedb',
      o.uri,
      '--database',
      o.database,
    ],
    {
      env: cleanEnv({ SPACETIMEDB_TOKEN: o.ownerToken, SPACETIME_SYNC_STATE_DIR: '/nonexistent' }),
      timeout: 60_000,
    },
  );
  return token;
}
