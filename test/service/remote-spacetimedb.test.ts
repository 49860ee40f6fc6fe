/**
 * A service pointed at a real SpacetimeDB (here: devhost in another process, reached only through
 * SPACETIMEDB_URI) must not load devhost: the host, its SQL engine and esbuild are for the embedded
 * default only. The service runs as `spacetime-sync start` with a loader hook recording every module it
 * loads; the embedded run is the control that shows the recorder sees devhost when it is loaded.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Devhost } from '@spacetime-sync/devhost';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_DB, startSyncDevhost } from '../support/devhost-harness.js';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
const RECORDER = new URL('../support/module-load-recorder.mjs', import.meta.url).pathname;
const DEVHOST_DIR = new URL('../../devhost/', import.meta.url).href;

let remote: Devhost;
let dir: string;
beforeAll(async () => {
  remote = await startSyncDevhost();
  dir = await mkdtemp(join(tmpdir(), 'remote-stdb-'));
});
afterAll(async () => {
  await remote?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Starts the service with `env`, waits until it is ready, stops it; the module URLs it loaded. */
async function loadedModules(name: string, env: Record<string, string>): Promise<string[]> {
  const log = join(dir, `${name}.modules`);
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(KAFKA_|SPACETIMEDB_|INGEST_|DEVHOST_|LOG_LEVEL)/.test(k)),
  );
  const child = spawn(process.execPath, ['--import', RECORDER, BIN, 'start'], {
    env: {
      ...clean,
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
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await expect.poll(() => out, { timeout: 60_000 }).toContain('"msg":"ready"');
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  return (await readFile(log, 'utf8')).split('\n').filter(Boolean);
}

// devhost runs from its sources under tsx, or bundled into a chunk of dist/; either way it loads
// sorted-btree (its indexes), which nothing else in the service uses, and esbuild when it has to bundle
// the module itself (no fresh prebuilt bundle in dist/, see test/cli/start-footprint.test.ts).
const devhostMarkers = (urls: string[]) =>
  urls.filter((u) => u.startsWith(DEVHOST_DIR) || /\/node_modules\/(esbuild|sorted-btree)\//.test(u));

describe('the service against a remote SpacetimeDB', () => {
  it('does not load devhost (nor esbuild) when SPACETIMEDB_URI is set', async () => {
    const urls = await loadedModules('remote', {
      SPACETIMEDB_URI: remote.url,
      SPACETIMEDB_DB: SYNC_DB,
      SPACETIMEDB_TOKEN: remote.ownerToken,
    });
    expect(urls.some((u) => u.includes('/node_modules/@connectrpc/connect'))).toBe(true); // the service did load
    expect(devhostMarkers(urls)).toEqual([]);
  }, 90_000);

  it('loads devhost for the embedded default (the recorder sees it)', async () => {
    const urls = await loadedModules('embedded', { DEVHOST_PORT: '0' });
    const seen = devhostMarkers(urls).join('\n');
    expect(seen).toContain('/node_modules/sorted-btree/');
  }, 90_000);
});
