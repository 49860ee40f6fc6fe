/**
 * Test-only: runs the compiled `spacetime-sync` as a user would, without blocking this process (the
 * service a test starts may live in it). The environment is the test's minus every setting the CLI
 * reads, plus `env`: each test says what the CLI sees.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;

export interface CliResult {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** The test process's environment without KAFKA_*, SPACETIMEDB_*, SPACETIME_SYNC_*, … and an empty state dir. */
export function cliEnv(env: Record<string, string> = {}): Record<string, string> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(KAFKA_|SPACETIMEDB_|SPACETIME_SYNC_|INGEST_|DEVHOST_|LOG_LEVEL)/.test(k),
    ),
  ) as Record<string, string>;
  return { ...clean, SPACETIME_SYNC_STATE_DIR: mkdtempSync(join(tmpdir(), 'cli-state-')), ...env };
}

export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: options.env ?? cliEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdin.end(options.input ?? '');
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err })));
}
