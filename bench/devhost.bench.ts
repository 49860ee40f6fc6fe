/**
 * devhost throughput and fan-out: reducer calls through the SDK (single and batched), the same
 * reducer on the host with no network (to see what the socket path costs), and the time from a
 * reducer call until every one of N subscribed (granted, non-owner) connections has the row.
 */

import type { Devhost } from '@spacetime-sync/devhost';
import { AlgebraicType, BinaryWriter, Identity } from 'spacetimedb';
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
  let n = 0;
  const start = async () => {
    devhost = await startSyncDevhost();
    writer = await connect(devhost, devhost.ownerToken);
  };
  const stop = async () => {
    writer.conn.disconnect();
    await devhost.stop();
  };

  const subscribers: Connected[] = [];
  let pending: { key: string; remaining: number; done: () => void } | undefined;

  return [
    {
      name: 'devhost: append_sync_event via SDK (1 event/call)',
      setup: start,
      teardown: stop,
      run: async () => {
        n++;
        await writer.conn.reducers.appendSyncEvent({ event: event(`s${n % 16}`, `k${n}`) });
      },
    },
    {
      name: 'devhost: append_sync_events via SDK (100 events/call)',
      opsPerRun: 100,
      setup: start,
      teardown: stop,
      run: async () => {
        const events = Array.from({ length: 100 }, () => {
          n++;
          return event(`s${n % 16}`, `k${n}`);
        });
        await writer.conn.reducers.appendSyncEvents({ events, cursor: undefined });
      },
    },
    {
      name: 'devhost: append_sync_event on the host, no network (1 event/call)',
      setup: start,
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
      name: `devhost: fan-out, reducer call → row at all ${SUBSCRIBERS} subscribers (p50/p99 = latency)`,
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
