/**
 * devhost throughput and fan-out: reducer calls through the SDK (single and batched; in memory and
 * durable with a data dir and the default group fsync), the same reducer on the host with no network
 * (to see what the socket path costs), the datastore alone (the ceiling of every append case), and the
 * time from a reducer call until every one of N subscribed (granted, non-owner) connections has the row.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devhost, type StoreOnly, storeOnly } from '@spacetime-sync/devhost';
import { AlgebraicType, BinaryWriter, Identity, Timestamp } from 'spacetimedb';
import { type DevhostProc, startDevhostProc } from '../chaos/procs/devhost-proc.js';
import {
  type Connected,
  connect,
  SYNC_DB,
  startSyncDevhost,
  subscribe,
} from '../test/support/devhost-harness.js';
import { eventInput } from '../test/support/sync-events.js';
import type { BenchCase } from './harness.js';

const SUBSCRIBERS = 10;
export const STORE_CEILING =
  'ceiling: devhost datastore insert of sync_event rows, no module (memory only, 100 rows/tx)';
function durableName(inFlight: number): string {
  return `devhost: append_sync_events via SDK, 100 events/call, ${inFlight} call${inFlight > 1 ? 's' : ''} in flight (durable: data dir, group-commit fsync)`;
}
const PIPELINED = 8;
/**
 * The deployment's shape: the host is its own process (`spacetime-sync devhost --data`), the
 * publisher another, so each has a core; the in-process case above shares one thread between the
 * SDK client and the host it measures.
 */
export const DURABLE_APPEND_OWN_PROCESS = `devhost in its own process: append_sync_events via SDK, 100 events/call, ${PIPELINED} calls in flight (durable: data dir, group-commit fsync)`;
export const DURABLE_APPEND = durableName(PIPELINED);
export const MEMORY_APPEND = 'devhost: append_sync_events via SDK, 100 events/call (memory only)';

function event(stream: string, key: string) {
  return eventInput(stream, key, {
    kind: 'bench.v1',
    body: `{"k":"${key}","v":"${'x'.repeat(200)}"}`,
    sourceTopic: 'bench',
  });
}

export default function suite(): BenchCase[] {
  let devhost: Devhost;
  let writer: Connected;
  let dataDir: string | undefined;
  let n = 0;
  const start = async (durable = false) => {
    dataDir = durable ? mkdtempSync(join(tmpdir(), 'bench-devhost-')) : undefined;
    devhost = await startSyncDevhost(dataDir);
    writer = await connect(devhost, devhost.ownerToken);
  };
  const stop = async () => {
    writer.conn.disconnect();
    await devhost.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const batch = () =>
    Array.from({ length: 100 }, () => {
      n++;
      return event(`s${n % 16}`, `k${n}`);
    });

  const subscribers: Connected[] = [];
  let pending: { key: string; remaining: number; done: () => void } | undefined;
  let store: StoreOnly;
  let encodeRow: (row: object) => Uint8Array;

  function durableAppend(inFlight: number): BenchCase {
    return {
      name: durableName(inFlight),
      opsPerRun: 100 * inFlight,
      ceiling: STORE_CEILING,
      compareTo: MEMORY_APPEND,
      target: { text: '≥ 40,000 ev/s', minOpsPerSec: 40_000 },
      setup: () => start(true),
      teardown: stop,
      run: async () => {
        await Promise.all(
          Array.from({ length: inFlight }, () =>
            writer.conn.reducers.appendSyncEvents({ events: batch(), cursor: undefined }),
          ),
        );
      },
    };
  }

  let proc: DevhostProc | undefined;
  const ownProcessAppend: BenchCase = {
    name: DURABLE_APPEND_OWN_PROCESS,
    opsPerRun: 100 * PIPELINED,
    ceiling: STORE_CEILING,
    compareTo: DURABLE_APPEND,
    target: { text: '≥ 40,000 ev/s', minOpsPerSec: 40_000 },
    setup: async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'bench-devhost-proc-'));
      // BENCH_DEVHOST_PROC_PROF=dir: a V8 CPU profile of the devhost process, written when it stops.
      const prof = process.env.BENCH_DEVHOST_PROC_PROF;
      proc = await startDevhostProc(dataDir, 0, prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []);
      writer = await connect({ url: proc.url }, proc.ownerToken);
    },
    teardown: async () => {
      writer.conn.disconnect();
      await proc?.proc.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    run: async () => {
      await Promise.all(
        Array.from({ length: PIPELINED }, () =>
          writer.conn.reducers.appendSyncEvents({ events: batch(), cursor: undefined }),
        ),
      );
    },
  };

  return [
    {
      name: STORE_CEILING,
      opsPerRun: 100,
      setup: async () => {
        await start();
        const db = devhost.databases.get(SYNC_DB);
        const table = db?.schema.tableByName('sync_event');
        if (!db || !table) throw new Error('no sync_event');
        store = storeOnly(db.schema, 'sync_event');
        const ser = AlgebraicType.makeSerializer(table.rowType, db.schema.typespace as never);
        encodeRow = (row) => {
          const w = new BinaryWriter(512);
          ser(w, row);
          return w.getBuffer();
        };
      },
      teardown: stop,
      run: async () => {
        const now = Timestamp.now();
        // Encoded inside the measured loop: a reducer encodes its rows too (the SDK serializer).
        const rows = batch().map((e) =>
          encodeRow({
            event_id: 0n,
            stream_id: e.streamId,
            seq: BigInt(n),
            idempotency_key: e.idempotencyKey,
            kind: e.kind,
            payload: e.payload,
            payload_hash: e.payloadHash,
            compaction_key: undefined,
            source_topic: e.sourceTopic,
            source_seq: 0n,
            kafka_topic: undefined,
            kafka_partition: undefined,
            kafka_offset: undefined,
            produced_at: e.producedAt,
            committed_at: now,
          }),
        );
        store.insertTx(rows);
      },
    },
    {
      name: 'devhost: append_sync_event via SDK, 1 event/call (memory only)',
      setup: () => start(),
      teardown: stop,
      run: async () => {
        n++;
        await writer.conn.reducers.appendSyncEvent({ event: event(`s${n % 16}`, `k${n}`) });
      },
    },
    {
      name: MEMORY_APPEND,
      opsPerRun: 100,
      ceiling: STORE_CEILING,
      setup: () => start(),
      teardown: stop,
      run: async () => {
        await writer.conn.reducers.appendSyncEvents({ events: batch(), cursor: undefined });
      },
    },
    // The reducer's answer with confirmed reads (the SDK's default) leaves only once the transaction
    // is fsynced: with one call in flight every call waits for its group commit; with several in
    // flight (the SDK sends them on one socket, the host runs them in order) they share commits.
    durableAppend(1),
    durableAppend(PIPELINED),
    ownProcessAppend,
    {
      name: 'devhost: append_sync_event on the host, no network, 1 event/call (memory only)',
      setup: () => start(),
      teardown: stop,
      run: async () => {
        n++;
        const db = devhost.databases.get(SYNC_DB);
        const reducer = db?.schema.reducerByName('append_sync_event');
        if (!db || !reducer) throw new Error('no append reducer');
        const w = new BinaryWriter(512);
        AlgebraicType.makeSerializer(reducer.params, db.schema.typespace as never)(w, {
          event: event(`s${n % 16}`, `k${n}`),
        });
        const out = await db.callReducer('append_sync_event', w.getBuffer(), {
          identity: devhost.ownerIdentity,
          connectionId: 0n,
        });
        if (out.kind !== 'committed') throw new Error(out.message);
      },
    },
    {
      name: `devhost: fan-out, reducer call → row at all ${SUBSCRIBERS} subscribers (memory only; p50/p99 = latency)`,
      setup: async () => {
        await start();
        for (let i = 0; i < SUBSCRIBERS; i++) {
          const c = await connect(devhost);
          // Anonymous identities see no stream until granted: read through row-level security,
          // as a desktop client does.
          await writer.conn.reducers.grantStreamRead({
            reader: Identity.fromString(c.identityHex),
            streamId: 'fanout',
          });
          await subscribe(c.conn, ["SELECT * FROM sync_event WHERE stream_id = 'fanout'"]);
          c.conn.db.syncEvent.onInsert((_ctx, row) => {
            if (pending && row.idempotencyKey === pending.key && --pending.remaining === 0) pending.done();
          });
          subscribers.push(c);
        }
      },
      teardown: async () => {
        for (const c of subscribers.splice(0)) c.conn.disconnect();
        await stop();
      },
      run: async () => {
        n++;
        const key = `f${n}`;
        const delivered = new Promise<void>((done) => {
          pending = { key, remaining: SUBSCRIBERS, done };
        });
        await writer.conn.reducers.appendSyncEvent({ event: event('fanout', key) });
        await delivered;
      },
    },
  ];
}
