/**
 * A desktop client as its own process (a process's first connection is what Node 20's fetch gets
 * wrong, ../../../shared/http-parser-warmup.ts): opens one stream at FIXTURE_URI with a connect
 * timeout far longer than the test waits, and prints `state <state> <detail>` on every change.
 */
import { MemoryCursorStore } from '../../../client/cursor-store.js';
import { SyncClient } from '../../../client/sync-client.js';

const env = (name: string) => process.env[name] ?? '';
await SyncClient.open(['s:1'], {
  uri: env('FIXTURE_URI'),
  database: env('FIXTURE_DB'),
  token: env('FIXTURE_TOKEN'),
  clientId: 'peer-closes',
  store: new MemoryCursorStore(),
  // A hung attempt must not be rescued by the attempt timeout: the test waits far less than this.
  connectTimeoutMs: 600_000,
  backoff: { baseMs: 100, capMs: 500 },
  onEvent: () => {},
  onState: (state, detail) => console.log(`state ${state}${detail ? ` ${detail}` : ''}`),
});
console.log('client open');
