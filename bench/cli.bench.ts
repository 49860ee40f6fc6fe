/**
 * CLI start-up as a user waits for it: a whole `node bin/spacetime-sync.js …` process, spawned and
 * run to exit, from the compiled dist/ (`npm run build`). `status` asks a running service (started in
 * this process, embedded devhost) over HTTP. Targets on the 2-core CI machine kind: `--help` ≤ 0.3 s,
 * `status` ≤ 0.5 s (p50/p99 per run are the times).
 */
import { spawn } from 'node:child_process';
import type { RunningService } from '../adapter/service.js';
import { tokenFileEnv } from '../test/support/auth.js';
import { startTestService } from '../test/support/service-harness.js';
import type { BenchCase } from './harness.js';

const BIN = new URL('../bin/spacetime-sync.js', import.meta.url).pathname;

function cli(args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: 'ignore',
      env: { ...process.env, ...env },
    });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`spacetime-sync ${args.join(' ')} exited ${code}`)),
    );
  });
}

export default function suite(): BenchCase[] {
  let service: RunningService;
  let token: Record<string, string> = {};
  return [
    { name: 'cli: spacetime-sync --help (process start to exit)', run: () => cli(['--help']) },
    {
      name: 'cli: spacetime-sync status against a running service (process start to exit)',
      async setup() {
        service = await startTestService();
        token = await tokenFileEnv({ roles: ['operator'] });
      },
      run: () => cli(['status'], { SPACETIME_SYNC_URL: service.httpUrl, ...token }),
      async teardown() {
        await service.stop();
      },
    },
  ];
}
