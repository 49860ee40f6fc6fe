/**
 * What the SyncClient tests share: a devhost with a writer, appends, a recording application, scoped
 * reader tokens and per-test cleanup (registered here, so every file importing it cleans up after each test).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Devhost } from '@spacetime-sync/devhost';
import { Identity } from 'spacetimedb';
import { afterEach } from 'vitest';
import type { CursorStore } from '../../../client/cursor-store.js';
import { type ClientState, type RebootstrapInfo, SyncClient } from '../../../client/sync-client.js';
import { type Connected, connect, SYNC_DB, startSyncDevhost } from '../../support/devhost-harness.js';
import { eventInput } from '../../support/sync-events.js';

export const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sync-client-'));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

export async function devhostWithWriter(
  dataDir?: string,
  port?: number,
): Promise<{ devhost: Devhost; writer: Connected }> {
  const devhost = await startSyncDevhost(dataDir, port);
  const writer = await connect(devhost, devhost.ownerToken);
  return { devhost, writer };
}

/** devhostWithWriter, both stopped after the test (most tests' prelude). */
export async function hostWithWriter(): Promise<{ devhost: Devhost; writer: Connected }> {
  const hosted = await devhostWithWriter();
  cleanups.push(async () => {
    hosted.writer.conn.disconnect();
    await hosted.devhost.stop();
  });
  return hosted;
}

export async function append(writer: Connected, stream: string, keys: string[]): Promise<void> {
  for (const key of keys) await writer.conn.reducers.appendSyncEvent({ event: eventInput(stream, key) });
}

/**
 * The application: records deliveries per stream since its last rebootstrap (a rebootstrap makes it
 * reload the stream), and notes any delivery that is not exactly the previous seq + 1.
 */
export class Recorder {
  private readonly segments = new Map<string, bigint[]>();
  readonly rebootstraps: RebootstrapInfo[] = [];
  readonly states: ClientState[] = [];
  readonly violations: string[] = [];
  onEvent = (stream: string, e: { seq: bigint }) => {
    const list = this.segments.get(stream) ?? [];
    const last = list[list.length - 1];
    if (last !== undefined && e.seq !== last + 1n) this.violations.push(`${stream}: ${e.seq} after ${last}`);
    list.push(e.seq);
    this.segments.set(stream, list);
  };
  onRebootstrap = (info: RebootstrapInfo) => {
    this.rebootstraps.push(info);
    this.segments.set(info.streamId, []);
  };
  onState = (s: ClientState) => {
    this.states.push(s);
  };
  seqs(stream: string): bigint[] {
    return [...(this.segments.get(stream) ?? [])];
  }
}

/**
 * A desktop identity allowed to read `streams`: clients see only granted streams, so each test
 * device gets its own token and the owner (the adapter's identity) grants it the streams.
 */
export const readers = new Map<string, Map<string, string>>();
export async function readerToken(devhost: Devhost, streams: string[], device = 'desk-1'): Promise<string> {
  // Keyed by the host's address and owner: a devhost restarted on its data dir keeps its signing
  // key, so the device keeps its identity (and its checkpoints) across the restart.
  const host = `${devhost.url} ${devhost.ownerIdentity}`;
  let byDevice = readers.get(host);
  if (!byDevice) {
    byDevice = new Map();
    readers.set(host, byDevice);
  }
  const reader = byDevice.get(device) ?? (await connect(devhost)).token;
  byDevice.set(device, reader);
  const probe = await connect(devhost, reader);
  const owner = await connect(devhost, devhost.ownerToken);
  for (const streamId of streams) {
    await owner.conn.reducers.grantStreamRead({ reader: Identity.fromString(probe.identityHex), streamId });
  }
  probe.conn.disconnect();
  owner.conn.disconnect();
  return reader;
}

export async function open(
  devhost: Devhost,
  streams: string[],
  store: CursorStore,
  app: Recorder,
  clientId = 'desk-1',
  extra: { replayWindow?: number } = {},
): Promise<SyncClient> {
  const client = await SyncClient.open(streams, {
    uri: devhost.url,
    database: SYNC_DB,
    token: await readerToken(devhost, streams, clientId),
    clientId,
    store,
    onEvent: app.onEvent,
    onRebootstrap: app.onRebootstrap,
    onState: app.onState,
    ackIntervalMs: 50,
    backoff: { baseMs: 50, capMs: 500 },
    rebootstrap: { minDelayMs: 1, maxDelayMs: 20, maxInWindow: 20, windowMs: 60_000 },
    ...extra,
  });
  cleanups.push(() => client.close());
  return client;
}

export const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));
