/**
 * Starts `spacetime-sync start` with the module-load recorder (`module-load-recorder.mjs`), waits
 * until it logs ready, stops it with SIGTERM and expects exit 0. Returns every module URL the process
 * loaded and what it printed: the footprint tests read from outside which packages a configuration
 * pulls in. The parent's Kafka, SpacetimeDB, ingest, devhost, bridge and legacy settings are dropped
 * so that only `env` configures the child.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
const RECORDER = new URL('./module-load-recorder.mjs', import.meta.url).pathname;
const SERVICE_ENV = /^(KAFKA_|SPACETIMEDB_|SPACETIME_SYNC_|INGEST_|DEVHOST_|LOG_LEVEL|BRIDGE_|LEGACY_)/;

export interface StartRecord {
  /** Every module URL the service loaded, in load order. */
  readonly urls: string[];
  /** Its stdout and stderr, interleaved as they came. */
  readonly out: string;
}

export async function startRecordingModules(env: Record<string, string>): Promise<StartRecord> {
  const dir = await mkdtemp(join(tmpdir(), 'start-modules-'));
  const log = join(dir, 'modules.log');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SERVICE_ENV.test(k)));
  const child = spawn(process.execPath, ['--import', RECORDER, BIN, 'start'], {
    env: {
      ...clean,
      SPACETIME_SYNC_STATE_DIR: join(dir, 'state'),
      INGEST_PORT: '0',
      LOG_LEVEL: 'info',
      PROBE_INTERVAL_MS: '0',
      MODULE_LOAD_LOG: log,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  // 'close', not 'exit': the last output can still be in the pipe when 'exit' fires.
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  try {
    await expect.poll(() => out, { timeout: 60_000 }).toContain('"msg":"ready"');
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  try {
    return { urls: (await readFile(log, 'utf8')).split('\n').filter(Boolean), out };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The npm packages among `urls` (the innermost node_modules entry of each). */
export function packagesOf(urls: readonly string[]): string[] {
  const names = new Set<string>();
  for (const u of urls) {
    const all = [...u.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
    const last = all.at(-1)?.[1];
    if (last) names.add(last);
  }
  return [...names];
}
