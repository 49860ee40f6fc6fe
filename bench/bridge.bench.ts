/**
 * A mirror failure never slows sync: the same load — one append_sync_events call of 100 events until
 * a subscriber has them, plus 20 bridge events enqueued — with the bridge worker draining to a live
 * relay, and with that relay stopped (the worker backing off, the outbox growing). Both cases run in
 * the same `npm run bench`, so their ratio is the comparison.
 */
import { rm } from 'node:fs/promises';
import type { Devhost } from '@spacetime-sync/devhost';
import type { RunningService } from '../adapter/service.js';
import { bridgeFiles, type KeyFiles, startBridgeService } from '../test/support/bridge-harness.js';
import { type Connected, connect, startSyncDevhost, subscribe } from '../test/support/devhost-harness.js';
import { startRelay, type TestRelay } from '../test/support/nostr-relay.js';
import { eventInput } from '../test/support/sync-events.js';
import type { BenchCase } from './harness.js';

const EVENTS_PER_RUN = 100;
const BRIDGE_PER_RUN = 20;
const UP = 'bridge: sync appends + client delivery while the bridge drains to a live relay (100 events/run)';
const DOWN = 'bridge: sync appends + client delivery with the relay down, outbox growing (100 events/run)';

function bridgeCase(name: string, relayDown: boolean): BenchCase {
  let devhost: Devhost;
  let owner: Connected;
  let subscriber: Connected;
  let files: KeyFiles;
  let relay: TestRelay;
  let service: RunningService;
  let n = 0;
  let waiting: { key: string; done: () => void } | undefined;
  return {
    name,
    opsPerRun: EVENTS_PER_RUN,
    ...(relayDown ? { compareTo: UP } : {}),
    async setup() {
      devhost = await startSyncDevhost();
      // The owner only enqueues: an observer subscribed to the outbox would get every status change
      // the bridge makes, a cost of the measurement, not of sync.
      owner = await connect(devhost, devhost.ownerToken);
      subscriber = await connect(devhost, devhost.ownerToken);
      subscriber.conn.db.syncEvent.onInsert((_c, e) => {
        if (waiting && e.idempotencyKey === waiting.key) waiting.done();
      });
      await subscribe(subscriber.conn, ["SELECT * FROM sync_event WHERE stream_id = 'bench:bridge'"]);
      files = await bridgeFiles(devhost);
      relay = await startRelay();
      service = await startBridgeService(devhost, files, `main=${relay.url}`);
      if (relayDown) await relay.stop();
    },
    async run() {
      const events = Array.from({ length: EVENTS_PER_RUN }, () => eventInput('bench:bridge', `k${++n}`));
      const last = `k${n}`;
      const delivered = new Promise<void>((done) => {
        waiting = { key: last, done };
      });
      const enqueued = Array.from({ length: BRIDGE_PER_RUN }, (_, i) =>
        owner.conn.reducers.enqueueBridgeEvent({
          bridgeKey: `b${n}-${i}`,
          streamId: 'bench:bridge',
          seq: BigInt(n),
          target: 'nostr',
          kind: 1,
          payload: new TextEncoder().encode(`{"n":${n},"i":${i}}`),
          maxAttempts: 3,
        }),
      );
      await service.writer.appendBatch(events);
      await Promise.all([delivered, ...enqueued]);
    },
    report() {
      // What the worker sees pending (its subscription holds pending rows only).
      return [
        `outbox at the end: ${service.bridge?.plan.depth ?? 'n/a'} pending of ${(n / EVENTS_PER_RUN) * BRIDGE_PER_RUN} enqueued`,
      ];
    },
    async teardown() {
      await service.stop();
      subscriber.conn.disconnect();
      owner.conn.disconnect();
      await relay.dispose();
      await devhost.stop();
      await rm(files.dir, { recursive: true, force: true });
    },
  };
}

export default function suite(): BenchCase[] {
  return [bridgeCase(UP, false), bridgeCase(DOWN, true)];
}
