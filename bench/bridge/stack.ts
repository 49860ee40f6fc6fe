/**
 * The bridge bench's deployment shape, set up fresh for every case: devhost as its own process with
 * a data dir and the default group fsync (durable: a reducer's answer leaves only once fsynced), the
 * service with its bridge worker in the bench process, the real relay (scripts/nostr-relay.sh) in a
 * third, a subscriber on the sync stream and an owner connection that enqueues bridge events. Also
 * the CPU each process used while measured.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import type { RunningService } from '../../adapter/service.js';
import type { Proc } from '../../chaos/procs/child.js';
import { startDevhostProc } from '../../chaos/procs/devhost-proc.js';
import { bridgeFiles, type KeyFiles, startBridgeService } from '../../test/support/bridge-harness.js';
import { type Connected, connect, subscribe } from '../../test/support/devhost-harness.js';
import { startRelay, type TestRelay } from '../../test/support/nostr-relay.js';

export const STREAM = 'bench:bridge';

export interface BridgeStack {
  readonly service: RunningService;
  readonly owner: Connected;
  readonly subscriber: Connected;
  readonly relay: TestRelay;
  readonly devhost: Proc;
  /** Enqueues one bridge event (kind 1, small JSON content) as a producer does. */
  enqueue(key: string, seq: number): Promise<void>;
  teardown(): Promise<void>;
}

export async function startStack(relayDown: boolean): Promise<BridgeStack> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bridge-'));
  // BRIDGE_BENCH_PROF=DIR: devhost writes a CPU profile there when it stops (run the bench's own
  // node with --cpu-prof too: `node --cpu-prof --cpu-prof-dir=DIR --import tsx bench/run.ts …`).
  const prof = process.env.BRIDGE_BENCH_PROF;
  const d = await startDevhostProc(dir, 0, prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []);
  // The owner only enqueues: an observer subscribed to the outbox would get every status change
  // the bridge makes, a cost of the measurement, not of sync.
  const owner = await connect(d, d.ownerToken);
  const subscriber = await connect(d, d.ownerToken);
  await subscribe(subscriber.conn, [`SELECT * FROM sync_event WHERE stream_id = '${STREAM}'`]);
  const files: KeyFiles = await bridgeFiles(d);
  const relay = await startRelay();
  const service = await startBridgeService(d, files, `main=${relay.url}`);
  if (relayDown) await relay.stop();
  const encoder = new TextEncoder();
  return {
    service,
    owner,
    subscriber,
    relay,
    devhost: d.proc,
    enqueue: (key, seq) =>
      owner.conn.reducers.enqueueBridgeEvent({
        bridgeKey: key,
        streamId: STREAM,
        seq: BigInt(seq),
        target: 'nostr',
        kind: 1,
        payload: encoder.encode(`{"key":"${key}","seq":${seq}}`),
        maxAttempts: 3,
      }),
    async teardown() {
      await service.stop();
      subscriber.conn.disconnect();
      owner.conn.disconnect();
      await relay.dispose();
      await d.proc.stop();
      rmSync(files.dir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

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

/** CPU of the bench process, its event loop, devhost and the relay from `start()` to `note()`. */
export class CpuWatch {
  private start:
    | {
        wall: number;
        self: number;
        loop: EventLoopUtilization;
        devhost: number | undefined;
        relay: number | undefined;
      }
    | undefined;

  constructor(private readonly stack: () => BridgeStack | undefined) {}

  /** From the first call on (later calls do nothing). */
  begin(): void {
    const s = this.stack();
    this.start ??= {
      wall: performance.now(),
      self: selfCpuSeconds(),
      loop: performance.eventLoopUtilization(),
      devhost: procCpuSeconds(s?.devhost.child.pid),
      relay: procCpuSeconds(s?.relay.pid()),
    };
  }

  note(): string | undefined {
    const s = this.stack();
    const start = this.start;
    if (!start || !s) return undefined;
    const wall = (performance.now() - start.wall) / 1000;
    const pct = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? 'n/a' : `${Math.round((100 * (a - b)) / wall)} %`;
    // The event loop's busy share: the rest of the process's CPU is other threads (the signer
    // thread, libuv, the GC's helpers).
    const loop = performance.eventLoopUtilization(start.loop).utilization;
    const relay = s.relay.pid();
    return `CPU while measured: bench process (service, bridge worker, clients) ${pct(selfCpuSeconds(), start.self)} of a core (its event loop busy ${Math.round(100 * loop)} % of the time), devhost process ${pct(procCpuSeconds(s.devhost.child.pid), start.devhost)}, relay process ${relay === undefined ? 'stopped' : pct(procCpuSeconds(relay), start.relay)}`;
  }
}
