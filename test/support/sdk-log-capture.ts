/**
 * Test setup (vitest `setupFiles`): the SpacetimeDB SDK logs through `console.log` and offers no
 * logger hook, so a passing run used to print its `❌ ERROR` lines (expected ones: a test restarting
 * devhost makes clients report lost connections). Here they are routed, as in the service
 * (adapter/telemetry/sdk-logs.ts), into records a test can read and assert on with `sdkLogRecords()`.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../adapter/telemetry/logger.js';
import { routeSdkLogs } from '../../adapter/telemetry/sdk-logs.js';

export interface SdkLogRecord {
  readonly level: number;
  readonly msg: string;
  readonly details?: string[];
}

const KEY = Symbol.for('spacetime-sync.test.sdk-logs');
type Holder = { [KEY]?: SdkLogRecord[] };
const holder = console as unknown as Holder;

/** The SDK's log records in this test file's process so far (oldest first). */
export function sdkLogRecords(): readonly SdkLogRecord[] {
  return holder[KEY] ?? [];
}

// Once per console: a test file that runs in an already-routed process must not wrap twice.
if (!holder[KEY]) {
  const records: SdkLogRecord[] = [];
  holder[KEY] = records;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) records.push(JSON.parse(line) as SdkLogRecord);
      done();
    },
  });
  routeSdkLogs(createLogger({ level: 'trace', destination: sink, format: 'json' }));
}
