/**
 * A desktop client for chaos runs, as its own process: the client library following the chaos
 * streams with a journal as its cursor store. Settings come from the environment (CHAOS_URI,
 * CHAOS_DB, CHAOS_TOKEN, CHAOS_STREAMS, CHAOS_JOURNAL, CHAOS_CLIENT_ID, CHAOS_MARKER_STREAM). It
 * prints `marker <seq>` when it has applied an event of the marker stream (the runner's recovery
 * signal) and `state <state>` on connection changes.
 */
import { SyncClient } from '../../client/sync-client.js';
import { JournalStore } from './journal-store.js';

function setting(name: string): string {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
}

const marker = setting('CHAOS_MARKER_STREAM');
const store = new JournalStore(setting('CHAOS_JOURNAL'), (streamId, seq) => {
  if (streamId === marker) console.log(`marker ${seq}`);
});
const client = await SyncClient.open([...setting('CHAOS_STREAMS').split(','), marker], {
  uri: setting('CHAOS_URI'),
  database: setting('CHAOS_DB'),
  token: setting('CHAOS_TOKEN'),
  clientId: setting('CHAOS_CLIENT_ID'),
  store,
  // Quick retries: the runner measures recovery, not the default backoff's patience.
  backoff: { baseMs: 100, capMs: 2_000 },
  onEvent: (streamId, event) => store.received(streamId, event),
  onRebootstrap: (info) => {
    console.log(`rebootstrap ${info.streamId} ${info.reason.kind}`);
    store.rebootstrapped(info.streamId, info.epoch, info.lowWatermark - 1n, info.reason.kind);
  },
  onState: (state, detail) =>
    console.log(`state ${state}${detail ? ` ${detail}` : ''} at ${new Date().toISOString()}`),
});
console.log('client open');
// For a run's diagnosis: where this client is, every few seconds (kept in the runner's output tail).
setInterval(() => console.log(`status ${client.currentState} at ${new Date().toISOString()}`), 5_000).unref();
process.once('SIGTERM', () => {
  client.close();
  process.exit(0);
});
