// A service's stand-in: logs its last lines through the project's logger to stdout (a pipe) while
// libuv's pool is busy — as the embedded devhost's commit-log fsyncs keep it at stop — then ends
// the way bin/spacetime-sync.js does. Run by test/cli/exit.test.ts.
import { pbkdf2 } from 'node:crypto';
import { createLogger } from '../../../adapter/telemetry/logger.js';
import { exitWhenFlushed } from '../../../cli/exit.js';

const logger = createLogger({ component: 'stand-in' });
const lines = Number(process.argv[2] ?? 100);
// Four jobs of a few hundred milliseconds occupy every thread of the pool (4 by default).
for (let i = 0; i < 4; i++) pbkdf2('p', 's', 300_000, 32, 'sha256', () => {});
for (let i = 0; i < lines; i++) logger.info({ i }, 'line');
logger.info('stopping');
logger.info('stopped');
await exitWhenFlushed(0);
