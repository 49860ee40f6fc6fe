// A command's stand-in: writes more to stdout than a pipe holds, says so on stderr, then ends the
// way bin/spacetime-sync.js does, with the exit code given as its argument. Run by test/cli/exit.test.ts.
import { exitWhenFlushed } from '../../../cli/exit.js';

const line = `${'x'.repeat(99)}\n`;
for (let i = 0; i < 10_000; i++) process.stdout.write(line);
process.stderr.write('queued\n');
await exitWhenFlushed(Number(process.argv[2] ?? 0));
