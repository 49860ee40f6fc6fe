/**
 * A service pointed at a real SpacetimeDB (here: devhost in another process, reached only through
 * SPACETIMEDB_URI) must not load devhost: the host, its SQL engine and esbuild are for the embedded
 * default only. The service runs as `spacetime-sync start` with a loader hook recording every module it
 * loads; the embedded run is the control that shows the recorder sees devhost when it is loaded.
 */
import type { Devhost } from '@spacetime-sync/devhost';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_DB, startSyncDevhost } from '../support/devhost-harness.js';
import { startRecordingModules } from '../support/start-recording-modules.js';

const DEVHOST_DIR = new URL('../../devhost/', import.meta.url).href;

let remote: Devhost;
beforeAll(async () => {
  remote = await startSyncDevhost();
});
afterAll(async () => {
  await remote?.stop();
});

// devhost runs from its sources under tsx, or bundled into a chunk of dist/; either way it loads
// sorted-btree (its indexes), which nothing else in the service uses, and esbuild when it has to bundle
// the module itself (no fresh prebuilt bundle in dist/, see test/cli/start-footprint.test.ts).
const devhostMarkers = (urls: string[]) =>
  urls.filter((u) => u.startsWith(DEVHOST_DIR) || /\/node_modules\/(esbuild|sorted-btree)\//.test(u));

describe('the service against a remote SpacetimeDB', () => {
  it('does not load devhost (nor esbuild) when SPACETIMEDB_URI is set', async () => {
    const { urls } = await startRecordingModules({
      SPACETIMEDB_URI: remote.url,
      SPACETIMEDB_DB: SYNC_DB,
      SPACETIMEDB_TOKEN: remote.ownerToken,
    });
    expect(urls.some((u) => u.includes('/node_modules/@connectrpc/connect'))).toBe(true); // the service did load
    expect(devhostMarkers(urls)).toEqual([]);
  }, 90_000);

  it('loads devhost for the embedded default (the recorder sees it)', async () => {
    const { urls } = await startRecordingModules({ DEVHOST_PORT: '0' });
    const seen = devhostMarkers(urls).join('\n');
    expect(seen).toContain('/node_modules/sorted-btree/');
  }, 90_000);
});
