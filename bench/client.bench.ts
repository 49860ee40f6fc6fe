import type { Devhost } from '@spacetime-sync/devhost';
import { AlgebraicType, BinaryReader, BinaryWriter, Identity } from 'spacetimedb';
import { MemoryCursorStore } from '../client/cursor-store.js';
import { DEFAULT_REPLAY_WINDOW, SyncClient } from '../client/sync-client.js';
import { SyncEvent as SyncEventRow } from '../module/bindings/types.js';
import { type Connected, connect, SYNC_DB, startSyncDevhost } from '../test/support/devhost-harness.js';
import { eventInput } from '../test/support/sync-events.js';
import type { BenchCase } from './harness.js';

const REPLAY = Number(process.env.BENCH_REPLAY_EVENTS ?? 100_000);
const REPLAY_NAME = (as: 'owner' | 'reader', window?: number) =>
  `client: replay ${REPLAY.toLocaleString('en-US')} events from watermark 0 until live, as ${as === 'owner' ? 'owner' : 'granted reader'}${window ? `, windows of ${window.toLocaleString('en-US')}` : ', one subscription (windows off)'} (memory only)`;
const DECODE_CEILING = `ceiling: SDK row decode of ${REPLAY.toLocaleString('en-US')} sync_event rows, no cache (client only)`;

function event(stream: string, key: string) {
  return eventInput(stream, key, {
    kind: 'bench.v1',
    body: `{"k":"${key}","v":"${'x'.repeat(100)}"}`,
    sourceTopic: 'bench',
  });
}

/**
 * What the SDK's own row decoder costs for the replay's rows, with nothing else: the rows encoded
 * once, then decoded with the deserializer the SDK builds for the table (no socket, no cache).
 */
function decodeCeiling(): BenchCase {
  let rows: Uint8Array = new Uint8Array();
  let decode: (r: BinaryReader) => unknown;
  return {
    name: DECODE_CEILING,
    opsPerRun: REPLAY,
    setup: async () => {
      const w = new BinaryWriter(REPLAY * 300);
      const ser = AlgebraicType.makeSerializer(SyncEventRow.algebraicType, undefined as never);
      for (let i = 0; i < REPLAY; i++) {
        const e = event('replay', `r${i}`);
        ser(w, { ...e, eventId: BigInt(i + 1), seq: BigInt(i + 1), committedAt: e.producedAt });
      }
      rows = w.getBuffer();
      decode = AlgebraicType.makeDeserializer(SyncEventRow.algebraicType, undefined as never);
    },
    run: async () => {
      const r = new BinaryReader(rows);
      for (let i = 0; i < REPLAY; i++) decode(r);
    },
  };
}

export default function suite(): BenchCase[] {
  let devhost: Devhost;
  let writer: Connected;
  let live: SyncClient | undefined;
  let waiting: { key: string; done: () => void } | undefined;
  let n = 0;
  let reader = '';
  const start = async () => {
    devhost = await startSyncDevhost();
    writer = await connect(devhost, devhost.ownerToken);
    const desk = await connect(devhost);
    reader = desk.token;
    for (const streamId of ['replay', 'live']) {
      await writer.conn.reducers.grantStreamRead({
        reader: Identity.fromString(desk.identityHex),
        streamId,
      });
    }
    desk.conn.disconnect();
  };
  const stop = async () => {
    await live?.close();
    live = undefined;
    writer.conn.disconnect();
    await devhost.stop();
  };
  function replayCase(as: 'owner' | 'reader', window?: number): BenchCase {
    // Over all runs: the most rows the SDK held for this client. (Heap figures were tried and left
    // out: with devhost in the same process they measured the host's garbage more than the client.)
    let peakCached = 0;
    return {
      name: REPLAY_NAME(as, window),
      ceiling: DECODE_CEILING,
      ...(REPLAY >= 1_000_000 && as === 'reader' && !window
        ? { target: { text: '1M until live ≤ 5 s', minOpsPerSec: REPLAY / 5 } }
        : {}),
      ...(as === 'reader' ? { compareTo: REPLAY_NAME(window ? 'reader' : 'owner') } : {}),
      report: () => [`peak rows in the SDK cache ${peakCached.toLocaleString('en-US')}`],
      opsPerRun: REPLAY,
      setup: async () => {
        await start();
        for (let i = 0; i < REPLAY; i += 500) {
          const events = Array.from({ length: Math.min(500, REPLAY - i) }, (_, j) =>
            event('replay', `r${i + j}`),
          );
          await writer.conn.reducers.appendSyncEvents({ events, cursor: undefined });
        }
      },
      teardown: stop,
      run: async () => {
        let applied = 0;
        const client: SyncClient = await SyncClient.open(['replay'], {
          uri: devhost.url,
          database: SYNC_DB,
          token: as === 'owner' ? devhost.ownerToken : reader,
          clientId: `bench-${n++}`,
          store: new MemoryCursorStore(),
          replayWindow: window ?? 0,
          onEvent: () => {
            applied++;
            if (applied % 1_000 === 0) peakCached = Math.max(peakCached, client.cachedEventCount);
          },
        });
        await client.waitLive(600_000);
        await client.close();
        if (applied !== REPLAY) throw new Error(`replayed ${applied} of ${REPLAY}`);
      },
    };
  }

  return [
    decodeCeiling(),
    // The same replay read as the owner (no row-level security) and as a granted desktop identity
    // (every row checked against its grants), side by side: the ratio is what the check costs.
    replayCase('owner'),
    replayCase('reader'),
    // The same replay window by window: the time it costs, and the memory it saves (report lines).
    replayCase('reader', DEFAULT_REPLAY_WINDOW),
    {
      name: 'client: live delivery, append → application callback, as granted reader (memory only; p50/p99 = latency)',
      setup: async () => {
        await start();
        live = await SyncClient.open(['live'], {
          uri: devhost.url,
          database: SYNC_DB,
          // A desktop identity granted the stream: its reads go through row-level security.
          token: reader,
          clientId: 'bench-live',
          store: new MemoryCursorStore(),
          onEvent: (_s, e) => {
            if (waiting && e.idempotencyKey === waiting.key) waiting.done();
          },
        });
        await live.waitLive();
      },
      teardown: stop,
      run: async () => {
        const key = `l${n++}`;
        const delivered = new Promise<void>((done) => {
          waiting = { key, done };
        });
        await writer.conn.reducers.appendSyncEvent({ event: event('live', key) });
        await delivered;
      },
    },
  ];
}
