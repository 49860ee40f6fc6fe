/**
 * A mirror failure never slows sync, measured in the deployment's shape: devhost as its own process
 * with a data dir and the default group fsync (durable: a reducer's answer leaves only once fsynced),
 * the service with its bridge worker in the bench process, the real relay (scripts/nostr-relay.sh)
 * in a third. The load — one append_sync_events call of 100 events until a subscriber has them, plus
 * 20 bridge events enqueued — runs with the worker draining to the live relay and with that relay
 * stopped (the worker backing off, the outbox growing), alternated over BRIDGE_BENCH_ROUNDS rounds
 * (default 3, order up/down then down/up so drift in the machine's load falls on both) in one run:
 * each case starts from a fresh data dir, relay and service. The run prints each series' median
 * and range and the ratio of the medians; beside each round, the CPU the bench process (service,
 * worker's event loop, SDK clients) and the devhost process used.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import type { RunningService } from '../adapter/service.js';
import type { Proc } from '../chaos/procs/child.js';
import { startDevhostProc } from '../chaos/procs/devhost-proc.js';
import { bridgeFiles, type KeyFiles, startBridgeService } from '../test/support/bridge-harness.js';
import { type Connected, connect, subscribe } from '../test/support/devhost-harness.js';
import { startRelay, type TestRelay } from '../test/support/nostr-relay.js';
import { eventInput } from '../test/support/sync-events.js';
import type { BenchCase } from './harness.js';

const EVENTS_PER_RUN = 100;
const BRIDGE_PER_RUN = 20;
const SHAPE =
  'durable (devhost process, data dir, group fsync 5 ms; service + bridge worker in the bench process; relay process)';
const UP = `bridge relay up: 100 appends/run until a subscriber has them + 20 outbox rows the worker drains to a live relay, ${SHAPE}`;
const DOWN = `bridge relay down: 100 appends/run until a subscriber has them + 20 outbox rows, relay stopped, outbox growing, ${SHAPE}`;

/** CPU seconds a process used so far (user + system), read from /proc; undefined where there is none. */
function procCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

const selfCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function bridgeCase(series: string, round: number, relayDown: boolean): BenchCase {
  let dir = '';
  let devhost: Proc | undefined;
  let owner: Connected;
  let subscriber: Connected;
  let files: KeyFiles | undefined;
  let relay: TestRelay | undefined;
  let service: RunningService | undefined;
  let n = 0;
  let waiting: { key: string; done: () => void } | undefined;
  let cpuStart:
    | { wall: number; self: number; loop: EventLoopUtilization; devhost: number | undefined }
    | undefined;
  return {
    name: `${series} [round ${round}]`,
    series,
    opsPerRun: EVENTS_PER_RUN,
    ...(relayDown ? { seriesCompareTo: UP } : {}),
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'bench-bridge-'));
      const d = await startDevhostProc(dir);
      devhost = d.proc;
      // The owner only enqueues: an observer subscribed to the outbox would get every status change
      // the bridge makes, a cost of the measurement, not of sync.
      owner = await connect(d, d.ownerToken);
      subscriber = await connect(d, d.ownerToken);
      subscriber.conn.db.syncEvent.onInsert((_c, e) => {
        if (waiting && e.idempotencyKey === waiting.key) waiting.done();
      });
      await subscribe(subscriber.conn, ["SELECT * FROM sync_event WHERE stream_id = 'bench:bridge'"]);
      files = await bridgeFiles(d);
      relay = await startRelay();
      service = await startBridgeService(d, files, `main=${relay.url}`);
      if (relayDown) await relay.stop();
    },
    async run() {
      cpuStart ??= {
        wall: performance.now(),
        self: selfCpuSeconds(),
        loop: performance.eventLoopUtilization(),
        devhost: procCpuSeconds(devhost?.child.pid),
      };
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
      await service?.writer.appendBatch(events);
      await Promise.all([delivered, ...enqueued]);
    },
    report() {
      const notes = [
        // What the worker sees pending (its subscription holds pending rows only).
        `outbox at the end: ${service?.bridge?.depth ?? 'n/a'} pending of ${(n / EVENTS_PER_RUN) * BRIDGE_PER_RUN} enqueued`,
      ];
      if (cpuStart) {
        const wall = (performance.now() - cpuStart.wall) / 1000;
        const dh = procCpuSeconds(devhost?.child.pid);
        const pct = (s: number) => `${Math.round((100 * s) / wall)} %`;
        // The event loop's busy share: the rest of the process's CPU is other threads (the signer
        // thread, libuv, the GC's helpers).
        const loop = performance.eventLoopUtilization(cpuStart.loop).utilization;
        notes.push(
          `CPU while measured: bench process (service, bridge worker, clients) ${pct(selfCpuSeconds() - cpuStart.self)} of a core (its event loop busy ${Math.round(100 * loop)} % of the time), devhost process ${dh === undefined || cpuStart.devhost === undefined ? 'n/a' : pct(dh - cpuStart.devhost)}`,
        );
      }
      return notes;
    },
    async teardown() {
      await service?.stop();
      subscriber?.conn.disconnect();
      owner?.conn.disconnect();
      await relay?.dispose();
      await devhost?.stop();
      if (files) rmSync(files.dir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export default function suite(): BenchCase[] {
  const rounds = Number(process.env.BRIDGE_BENCH_ROUNDS ?? '3');
  return Array.from({ length: rounds }, (_, i) =>
    i % 2 === 0
      ? [bridgeCase(UP, i + 1, false), bridgeCase(DOWN, i + 1, true)]
      : [bridgeCase(DOWN, i + 1, true), bridgeCase(UP, i + 1, false)],
  ).flat();
}
