/**
 * The saturating case: one append_sync_events call of 100 events until a subscriber has them, plus
 * 20 bridge events enqueued, as fast as they go. At saturation the mirroring's CPU (signing thread,
 * relay I/O, and on this machine the relay process itself) necessarily competes with devhost for the
 * cores, so relay up is slower than relay down here; the fixed-load case (./fixed-load.ts) answers
 * whether a mirror failure blocks sync.
 */
import { eventInput } from '../../test/support/sync-events.js';
import type { BenchCase } from '../harness.js';
import { type BridgeStack, CpuWatch, STREAM, startStack } from './stack.js';

const EVENTS_PER_RUN = 100;
const BRIDGE_PER_RUN = 20;
const SHAPE =
  'durable (devhost process, data dir, group-commit fsync; service + bridge worker in the bench process; relay process)';
export const SATURATION_UP = `bridge saturation, relay up: 100 appends/run until a subscriber has them + 20 outbox rows the worker drains to a live relay, ${SHAPE}`;
export const SATURATION_DOWN = `bridge saturation, relay down: 100 appends/run until a subscriber has them + 20 outbox rows, relay stopped, outbox growing, ${SHAPE}`;

export function saturationCase(round: number, relayDown: boolean): BenchCase {
  let stack: BridgeStack | undefined;
  let n = 0;
  let waiting: { key: string; done: () => void } | undefined;
  const cpu = new CpuWatch(() => stack);
  const series = relayDown ? SATURATION_DOWN : SATURATION_UP;
  return {
    name: `${series} [round ${round}]`,
    series,
    opsPerRun: EVENTS_PER_RUN,
    ...(relayDown ? { seriesCompareTo: SATURATION_UP } : {}),
    async setup() {
      stack = await startStack(relayDown);
      stack.subscriber.conn.db.syncEvent.onInsert((_c, e) => {
        if (waiting && e.idempotencyKey === waiting.key) waiting.done();
      });
    },
    async run() {
      const s = stack as BridgeStack;
      cpu.begin();
      const events = Array.from({ length: EVENTS_PER_RUN }, () => eventInput(STREAM, `k${++n}`));
      const last = `k${n}`;
      const delivered = new Promise<void>((done) => {
        waiting = { key: last, done };
      });
      const enqueued = Array.from({ length: BRIDGE_PER_RUN }, (_, i) => s.enqueue(`b${n}-${i}`, n));
      await s.service.writer.appendBatch(events);
      await Promise.all([delivered, ...enqueued]);
    },
    report() {
      const enqueued = (n / EVENTS_PER_RUN) * BRIDGE_PER_RUN;
      return [
        // What the worker sees pending (its subscription holds pending rows only).
        `outbox at the end: ${stack?.service.bridge?.depth ?? 'n/a'} pending of ${enqueued} enqueued`,
        cpu.note() ?? 'CPU: n/a',
      ];
    },
    async teardown() {
      await stack?.teardown();
    },
  };
}
