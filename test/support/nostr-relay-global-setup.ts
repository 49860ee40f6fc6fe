/**
 * Vitest global setup of the `nostr` project: builds the relay once (cached, scripts/nostr-relay.sh
 * install) so the tests' own relays start in well under a second.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = new URL('../../scripts/nostr-relay.sh', import.meta.url).pathname;

export default async function setup(): Promise<void> {
  // A cold build on 2 cores takes a few minutes (see scripts/nostr-relay.md); CI installs it first.
  await run('bash', [SCRIPT, 'install'], { timeout: 900_000 });
}
